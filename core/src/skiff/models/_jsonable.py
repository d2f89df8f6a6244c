"""JSON for model inputs and outputs: numpy and pandas values become plain JSON."""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math


def _default(value):
    if hasattr(value, "tolist") and type(value).__module__.startswith("numpy"):
        return value.tolist()  # ndarray and numpy scalars
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)) or hasattr(value, "isoformat"):
        return value.isoformat()
    module = type(value).__module__
    if module.startswith("pandas"):
        if hasattr(value, "to_dict") and hasattr(value, "columns"):
            return value.to_dict(orient="records")
        if hasattr(value, "tolist"):
            return value.tolist()
        if value != value:  # pandas.NA / NaT
            return None
    if hasattr(value, "toarray"):  # scipy sparse
        return value.toarray().tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value, **kwargs) -> str:
    """``json.dumps`` that accepts numpy arrays and scalars, pandas objects, bytes (base64)
    and datetimes (ISO 8601); NaN stays NaN as Python's json writes it."""
    return json.dumps(value, default=_default, **kwargs)


def to_jsonable(value):
    """``value`` as plain lists, dicts, strings and numbers (a round trip through JSON)."""
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return json.loads(dumps(value))
