"""S3 ETags: when they are MD5s, and rebuilding them from content."""

from __future__ import annotations

import base64
import hashlib


def etag_is_md5(response: dict) -> bool:
    """SSE-KMS and SSE-C objects have ETags that are not MD5s of the content."""
    return (not str(response.get("ServerSideEncryption", "")).startswith("aws:kms")
            and not response.get("SSECustomerAlgorithm"))


def etag_of(result) -> str:
    """An S3 ETag from a whole-content MD5 or from a list of per-part MD5 digests."""
    if isinstance(result, list):
        return f"{hashlib.md5(b''.join(result)).hexdigest()}-{len(result)}"
    return result.hexdigest()


def counted(chunks, advance):
    for chunk in chunks:
        advance(len(chunk))
        yield chunk


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
