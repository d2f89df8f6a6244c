"""MLflow's response shape: JSON objects with unset fields left out (the entities'
``to_dict`` already omit them and write NaN as a string)."""

from __future__ import annotations

import json

from flask import Response


def json_response(payload: dict | None = None, status: int = 200) -> Response:
    body = json.dumps(payload or {}, separators=(",", ":"), allow_nan=False)
    return Response(body, status=status, mimetype="application/json")


def empty() -> Response:
    return Response("{}", status=200, mimetype="application/json")


def paged(key: str, items, to_dict=None) -> Response:
    """``{key: [...], "next_page_token": ...}`` for a PagedList, omitting empty parts."""
    encoded = [to_dict(i) if to_dict else i.to_dict() for i in items]
    return paged_dicts(key, encoded, getattr(items, "token", None))


def paged_dicts(key: str, encoded: list[dict], token: str | None) -> Response:
    """The same for items already in their JSON form."""
    out = {}
    if encoded:
        out[key] = encoded
    if token:
        out["next_page_token"] = token
    return json_response(out)
