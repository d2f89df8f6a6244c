"""The server's proxied multipart upload over GCS, for clients without Google credentials.

Each part gets its own resumable-upload session for a temporary object
``.skiff-tmp/<upload id>/p<part number>``: a session URI authorises uploads to that one object
and nothing else, so it serves as the part's presigned URL (the client PUTs the part's bytes
to it in one request). Completing composes the parts, 32 at a time (the compose limit), into
the final object, which appears only then; the temporary objects are deleted. This uses only
the JSON API, which the emulators also serve (fake-gcs-server has no XML multipart API).
"""

from __future__ import annotations

import re
import uuid

from skiff.artifacts.multipart import (
    CreateMultipartUpload,
    MultipartUploadCredential,
    MultipartUploadPart,
)
from skiff.artifacts.transfer import run_parallel
from skiff.errors import SkiffException

MAX_COMPONENTS = 32  # sources one compose request takes
TMP_ROOT = ".skiff-tmp"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def _part_name(upload_id: str, number: int) -> str:
    return f"{TMP_ROOT}/{upload_id}/p{number:05d}"


def check_upload_id(upload_id: str) -> str:
    # The id becomes part of object names: accept only what create handed out.
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise SkiffException.invalid_parameter_value(f"Invalid upload_id: {upload_id!r}")
    return upload_id


def create(bucket, num_parts: int, opts: dict) -> CreateMultipartUpload:
    upload_id = uuid.uuid4().hex

    def session(number: int) -> MultipartUploadCredential:
        url = bucket.blob(_part_name(upload_id, number)).create_resumable_upload_session(
            content_type="application/octet-stream", checksum=None, **opts)
        return MultipartUploadCredential(url=url, part_number=number)

    return CreateMultipartUpload(upload_id, run_parallel(session, range(1, num_parts + 1)))


def complete(bucket, key: str, upload_id: str, parts: list[MultipartUploadPart],
             content_type: str | None, opts: dict) -> None:
    check_upload_id(upload_id)
    numbers = [p.part_number for p in parts]
    if not numbers or len(set(numbers)) != len(numbers):
        raise SkiffException.invalid_parameter_value(
            "complete_multipart_upload needs each uploaded part once")
    names = [_part_name(upload_id, n) for n in numbers]
    found = run_parallel(lambda name: bucket.get_blob(name, **opts) is not None, names)
    missing = [n for n, present in zip(numbers, found) if not present]
    if missing:
        raise SkiffException.invalid_parameter_value(
            f"Parts {missing} of upload {upload_id} were never uploaded")
    made: list[str] = []
    try:
        level = 0
        while len(names) > MAX_COMPONENTS:  # compose in a tree: 32 sources per request
            groups = [names[i:i + MAX_COMPONENTS] for i in range(0, len(names), MAX_COMPONENTS)]
            merged = [f"{TMP_ROOT}/{upload_id}/c{level}-{i:04d}" for i in range(len(groups))]

            def merge(index, groups=groups, merged=merged):
                bucket.blob(merged[index]).compose([bucket.blob(n) for n in groups[index]],
                                                   **opts)

            run_parallel(merge, range(len(groups)))
            made += merged
            names, level = merged, level + 1
        final = bucket.blob(key)
        final.content_type = content_type or "application/octet-stream"
        final.compose([bucket.blob(n) for n in names], **opts)
    finally:
        delete_temporary(bucket, [_part_name(upload_id, n) for n in numbers] + made, opts)


def abort(bucket, upload_id: str, opts: dict) -> None:
    check_upload_id(upload_id)
    names = [b.name for b in bucket.client.list_blobs(
        bucket.name, prefix=f"{TMP_ROOT}/{upload_id}/", **opts)]
    delete_temporary(bucket, names, opts)


def delete_temporary(bucket, names: list[str], opts: dict, workers: int | None = None) -> None:
    def delete(name):
        try:
            bucket.blob(name).delete(**opts)
        except Exception:  # parts never sent, or a retention policy: not the caller's error
            pass

    run_parallel(delete, names, workers)
