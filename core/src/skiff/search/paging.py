"""Opaque page tokens: base64 of a small JSON object, as MLflow's stores use."""

from __future__ import annotations

import base64
import json

from skiff.errors import SkiffException


def encode_token(payload: dict) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str | None) -> dict:
    if not token:
        return {}
    try:
        payload = json.loads(base64.b64decode(token.encode(), validate=True))
    except Exception:
        raise SkiffException.invalid_parameter_value(
            f"Invalid page token, could not base64-decode: {token!r}"
        ) from None
    if not isinstance(payload, dict):
        raise SkiffException.invalid_parameter_value(f"Invalid page token: {token!r}")
    return payload


def offset_from_token(token: str | None) -> int:
    payload = decode_token(token)
    offset = payload.get("offset", 0)
    if not isinstance(offset, int) or offset < 0:
        raise SkiffException.invalid_parameter_value(f"Invalid page token: {token!r}")
    return offset


def page_by_offset(items: list, max_results: int, token: str | None):
    """Slice a fully sorted list into one page; returns (page, next_token)."""
    start = offset_from_token(token)
    end = start + max_results
    page = items[start:end]
    return page, (encode_token({"offset": end}) if end < len(items) else None)
