"""MLflow's request rules: where parameters come from and how they are typed.

* POST and PUT need ``Content-Type: application/json``; PATCH and DELETE bodies are read as
  JSON without the check. An empty body is ``{}``; a JSON string holding JSON (old clients)
  is decoded twice.
* GET reads only the query string when it has one (repeated keys make lists, booleans are
  true/false in any case, enums by name or number), else falls back to a JSON body.
* camelCase names are accepted for snake_case fields, but not both spellings at once.
* Every field is checked against its declared type; a bad one is a 400 naming it.
"""

from __future__ import annotations

import json
import math
import re

from flask import request

from skiff.errors import SkiffException
from skiff.validation import INT64_MAX, INT64_MIN

STR, INT, FLOAT, BOOL, DICT = "string", "int", "double", "bool", "object"
LIST_STR, LIST_DICT = "string[]", "object[]"

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
# A JSON object key holding an upper-case letter; when the raw body has none (and no \u
# escapes), no key can need renaming and the body's objects are used as they are.
_CAMEL_KEY_TEXT = re.compile(rb'[A-Z][^"\\]*"\s*:')


def _bad(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


def missing(name: str) -> SkiffException:
    return _bad(
        f"Missing value for required parameter '{name}'. See the API docs for more "
        "information about request parameters."
    )


def _wrong_type(name: str, value) -> SkiffException:
    shown = json.dumps(value) if not isinstance(value, str) else json.dumps(value)
    return _bad(
        f"Invalid value {shown} for parameter '{name}' supplied: Hint: Value was of type "
        f"'{type(value).__name__}'. See the API docs for more information about request "
        "parameters."
    )


def _snake(key: str) -> str:
    if key.islower():  # the common case: already snake_case
        return key
    return _CAMEL.sub(lambda m: "_" + m.group(1).lower(), key)


def snake_keys(obj):
    """Rename camelCase keys to snake_case, recursively; both spellings is an error."""
    if isinstance(obj, list):
        return [snake_keys(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        name = _snake(key) if isinstance(key, str) else key
        if name in out:
            raise _bad(f"Parameter '{name}' was given twice (as '{name}' and in camelCase)")
        out[name] = snake_keys(value)
    return out


def _check_content_type() -> None:
    content_type = request.headers.get("Content-Type")
    if content_type is None:
        raise _bad("Bad Request. Content-Type header is missing.")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise _bad("Bad Request. Content-Type must be one of ['application/json'].")


def read_body(limit: int) -> bytes:
    """The request body, refused with a 400 when it is larger than ``limit`` bytes (checked
    before reading when the length is declared, and while reading when it is not)."""
    length = request.content_length
    if length is not None and length > limit:
        raise body_too_large(length, limit)
    stream = request.stream
    if length is not None:  # read exactly what was declared (a huge read size costs time)
        return stream.read(length)
    parts, total = [], 0
    while chunk := stream.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise body_too_large(None, limit)
        parts.append(chunk)
    return b"".join(parts)


def body_too_large(length, limit) -> SkiffException:
    got = f" ({length} bytes)" if length is not None else ""
    return _bad(
        f"The request body is too large{got}; the limit for this endpoint is {limit} bytes. "
        "Split the request into smaller ones."
    )


def json_body(limit: int) -> dict:
    if request.method in ("POST", "PUT"):
        _check_content_type()
    data = read_body(limit)
    if not data.strip():
        return {}
    try:
        obj = json.loads(data)
        if isinstance(obj, str):  # double-encoded by old clients
            obj = json.loads(obj) if obj.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"Malformed JSON in the request body: {exc}") from None
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise _bad(
            f"The request body must be a JSON object, got {type(obj).__name__}. See the API "
            "docs for more information about request parameters."
        )
    if b"\\" not in data and not _CAMEL_KEY_TEXT.search(data):
        return obj  # a big log-batch body skips the recursive walk below
    return snake_keys(obj)


def _query_params(schema: dict) -> dict:
    out = {}
    for raw_key in request.args:
        key = _snake(raw_key)
        kind = schema.get(key)
        if kind is None:
            continue  # unknown keys are ignored
        if key in out:
            raise _bad(f"Parameter '{key}' was given twice (as '{key}' and in camelCase)")
        values = request.args.getlist(raw_key)
        out[key] = values if kind in (LIST_STR, LIST_DICT) else values[0]
    return out


def _int64(name: str, number: int) -> int:
    """MLflow's integer fields are 64-bit (protobuf int64): a larger one is refused here,
    before a store or its driver meets it."""
    if INT64_MIN <= number <= INT64_MAX:
        return number
    raise _bad(f"Invalid value {number} for parameter '{name}' supplied: it does not fit a "
               "64-bit integer.")


def _coerce(name: str, value, kind, from_query: bool):
    if kind == STR:
        if isinstance(value, str):
            return value
        raise _wrong_type(name, value)
    if kind == INT:
        if isinstance(value, bool):
            raise _wrong_type(name, value)
        if isinstance(value, int):
            return _int64(name, value)
        if isinstance(value, float) and value.is_integer():
            return _int64(name, int(value))
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return _int64(name, int(value))
        raise _wrong_type(name, value)
    if kind == FLOAT:
        if isinstance(value, bool):
            raise _wrong_type(name, value)
        if isinstance(value, (int, float)):
            try:
                return float(value)
            except OverflowError:  # a JSON integer beyond the largest double
                raise _bad(f"Invalid value {value} for parameter '{name}' supplied: it does "
                           "not fit a double (64-bit floating point).") from None
        if isinstance(value, str):
            text = value.strip().lower()
            special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf,
                       "inf": math.inf, "-inf": -math.inf}
            if text in special:
                return special[text]
            try:
                return float(text)
            except ValueError:
                pass
        raise _wrong_type(name, value)
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if from_query:
            raise _bad(f"Invalid boolean value: {value!r} for parameter '{name}'")
        raise _wrong_type(name, value)
    if kind == DICT:
        if isinstance(value, dict):
            return value
        if from_query and isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return snake_keys(parsed)
        raise _wrong_type(name, value)
    if kind in (LIST_STR, LIST_DICT):
        if not isinstance(value, list):
            value = [value]
        item_kind = STR if kind == LIST_STR else DICT
        return [_coerce(name, v, item_kind, from_query) for v in value]
    if isinstance(kind, type):  # an enum class of skiff.entities (RunStatus, ViewType...)
        if isinstance(value, bool):
            raise _wrong_type(name, value)
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            number = int(value)
            kind.to_string(number)  # raises for unknown numbers
            return number
        if isinstance(value, str):
            return kind.from_string(value)
        raise _wrong_type(name, value)
    raise AssertionError(f"unknown field kind {kind!r}")


def get_params(schema: dict, required=(), *, present=(), limit: int | None = None) -> dict:
    """Typed request parameters for ``schema`` ({name: kind}); absent fields are left out.
    ``required`` names fields that must be present and non-empty (``run_id`` also accepts
    ``run_uuid``); ``present`` names fields that must be present but may be empty."""
    from flask import current_app

    if limit is None:
        limit = current_app.extensions["skiff"].config.max_json_bytes
    from_query = request.method == "GET" and bool(request.args)
    raw = _query_params(schema) if from_query else json_body(limit)
    params = {}
    for name, kind in schema.items():
        value = raw.get(name)
        if value is None:
            continue
        params[name] = _coerce(name, value, kind, from_query)
    if "run_uuid" in schema and not params.get("run_id") and params.get("run_uuid"):
        params["run_id"] = params["run_uuid"]
    for name in required:
        value = params.get(name)
        if value is None or value == "":
            raise missing(name)
    for name in present:
        if params.get(name) is None:
            raise missing(name)
    return params


def field(item: dict, name: str, kind, required: bool = False, where: str = ""):
    """Read and type one field of a nested object (a metric of a batch, a tag...)."""
    value = item.get(name)
    label = f"{where}.{name}" if where else name
    if value is None:
        if required:
            raise missing(label)
        return None
    return _coerce(label, value, kind, False)
