"""The scoring protocol's payloads (MLflow 2.0+), shared by the scoring server and
``skiff models predict``: parse a request body into model input and params, and encode
predictions as ``{"predictions": ...}``."""

from __future__ import annotations

import io
import json

from skiff.errors import SkiffException

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET]
INPUT_KEYS = ("dataframe_records", "instances", "dataframe_split", "inputs")
PARAMS_KEY = "params"


class UnsupportedContentType(SkiffException):
    """Answered with HTTP 415."""

    @property
    def http_status(self) -> int:
        return 415


def parse_content_type(content_type: str | None) -> str:
    """The mime type; any parameter but ``charset=utf-8`` is refused (415), as MLflow 2.0+
    does for the old ``format=pandas-split`` style."""
    if not content_type:
        raise UnsupportedContentType(_unsupported_message(content_type), "BAD_REQUEST")
    mime, *params = [p.strip() for p in content_type.split(";")]
    mime = mime.lower()
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() != "utf-8":
            raise UnsupportedContentType(
                f"Unrecognized content type parameters: {param}. The scoring protocol has "
                "changed in MLflow 2.0: only the 'charset=utf-8' parameter is accepted, and "
                "the input format goes in the JSON body (dataframe_split, dataframe_records, "
                "instances or inputs).", "BAD_REQUEST")
    if mime not in CONTENT_TYPES:
        raise UnsupportedContentType(_unsupported_message(content_type), "BAD_REQUEST")
    return mime


def _unsupported_message(content_type) -> str:
    return ("This predictor only supports the following content types: Types: "
            f"{CONTENT_TYPES}. Got '{content_type}'.")


def _bad(message: str) -> SkiffException:
    return SkiffException(message, "BAD_REQUEST")


def parse_invocation_payload(body, content_type: str | None, input_schema=None):
    """(model input, params) from a request body. ``input_schema`` (the model's input
    schema, or None) chooses between DataFrames and arrays for ``instances``/``inputs``."""
    mime = parse_content_type(content_type)
    if mime == CONTENT_TYPE_CSV:
        import pandas as pd

        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
        # String columns stay strings ('02134' is a zip code, not the number 2134).
        dtypes = {s.name: str for s in input_schema or []
                  if getattr(s, "name", None) is not None
                  and getattr(getattr(s, "type", None), "value", None) == "string"} \
            if _is_column_schema(input_schema) else None
        try:
            return pd.read_csv(io.StringIO(text), dtype=dtypes or None), None
        except Exception as exc:
            raise _bad(f"Failed to parse the input as CSV: {exc}") from exc
    if mime == CONTENT_TYPE_PARQUET:
        import pandas as pd

        raw = body if isinstance(body, (bytes, bytearray)) else body.encode()
        try:
            return pd.read_parquet(io.BytesIO(raw)), None
        except Exception as exc:
            raise _bad(f"Failed to parse the input as Parquet: {exc}") from exc
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"Invalid input: the request body is not valid JSON: {exc}") from exc
    return parse_json_payload(payload, input_schema)


def parse_json_payload(payload, input_schema=None):
    if not isinstance(payload, dict):
        raise _bad("Invalid input. The input must be a JSON dictionary with exactly one of "
                   f"the input fields {set(INPUT_KEYS)}. Received a "
                   f"{'list' if isinstance(payload, list) else type(payload).__name__}.")
    params = payload.get(PARAMS_KEY)
    if params is not None and not isinstance(params, dict):
        raise _bad(f"'params' must be a JSON object, got {type(params).__name__}")
    keys = [k for k in payload if k != PARAMS_KEY]
    found = [k for k in keys if k in INPUT_KEYS]
    if len(found) != 1 or len(keys) != 1:
        raise _bad(
            "The input must be a JSON dictionary with exactly one of the input fields "
            f"{list(INPUT_KEYS)} (and optionally 'params'); got keys {keys}. Note that the "
            "scoring protocol changed in MLflow 2.0: the 1.x formats (bare lists, "
            "top-level 'columns'/'data') are not accepted.")
    key = found[0]
    value = payload[key]
    if key == "dataframe_split":
        return _frame_from_split(value), params
    if key == "dataframe_records":
        import pandas as pd

        if not isinstance(value, list):
            raise _bad("'dataframe_records' must be a list of records")
        return pd.DataFrame(value), params
    return _parse_tf_serving(key, value, input_schema), params


def _frame_from_split(value):
    import pandas as pd

    if not isinstance(value, dict) or "data" not in value:
        raise _bad("'dataframe_split' must be an object with 'columns' and 'data' "
                   "(pandas split orient)")
    try:
        return pd.DataFrame(value["data"], columns=value.get("columns"),
                            index=value.get("index"))
    except Exception as exc:
        raise _bad(f"Failed to build a DataFrame from 'dataframe_split': {exc}") from exc


def _is_column_schema(schema) -> bool:
    return schema is not None and len(schema) and not schema.is_tensor_spec()


def _parse_tf_serving(key: str, value, schema):
    """``instances`` (rows) and ``inputs`` (columns), TF-serving style."""
    import numpy as np
    import pandas as pd

    dtypes = {}
    if schema is not None and schema.is_tensor_spec():
        dtypes = {s.name: s.type for s in schema}

    def array(v, name=None):
        return np.asarray(v, dtype=dtypes.get(name)) if dtypes else np.asarray(v)

    if key == "instances":
        if not isinstance(value, list):
            raise _bad("'instances' must be a list")
        if value and all(isinstance(r, dict) for r in value):
            if _is_column_schema(schema) or not dtypes:
                return pd.DataFrame(value) if _is_column_schema(schema) else \
                    {k: array([r.get(k) for r in value]) for k in value[0]}
            return {k: array([r[k] for r in value], k) for k in value[0]}
        if _is_column_schema(schema):
            return _column_input(value, schema)
        return array(value, None if not dtypes else next(iter(dtypes)))
    if isinstance(value, dict):
        if _is_column_schema(schema):
            return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in value.items()})
        return {k: array(v, k) for k, v in value.items()}
    if _is_column_schema(schema):
        return _column_input(value, schema)
    return array(value, None if not dtypes else next(iter(dtypes)))


def _column_input(value, schema):
    """A list for a column-based model: rows of values (or one column's values)."""
    import pandas as pd

    names = [s.name for s in schema] if schema.has_input_names() else None
    if isinstance(value, list) and value and isinstance(value[0], list):
        widths = {len(row) if isinstance(row, list) else None for row in value}
        if names and widths != {len(names)}:
            shown = sorted(w for w in widths if w is not None)
            raise SkiffException(
                f"The input rows have {' or '.join(map(str, shown)) or 'no'} values, but "
                f"the model's signature has {len(names)} columns: {names}",
                "INVALID_PARAMETER_VALUE", error_class="SCHEMA_ENFORCEMENT_FAILED")
        return pd.DataFrame(value, columns=names)
    if names and len(names) == 1 or not names:
        return pd.DataFrame({(names or [0])[0]: value if isinstance(value, list) else [value]})
    return value


def predictions_to_jsonable(predictions):
    """Model output as JSON values: arrays -> lists, DataFrames -> records, Series ->
    lists, dicts recursively; scalars and strings as they are."""
    import sys

    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(predictions, pd.DataFrame):
            return predictions.to_dict(orient="records")
        if isinstance(predictions, pd.Series):
            return predictions.tolist()
    if np is not None and isinstance(predictions, (np.ndarray, np.generic)):
        return predictions.tolist()
    if isinstance(predictions, dict):
        return {k: predictions_to_jsonable(v) for k, v in predictions.items()}
    if isinstance(predictions, (list, tuple)):
        return [predictions_to_jsonable(v) for v in predictions]
    return predictions


def encode_predictions(predictions, wrap: bool = True) -> str:
    """The response body: ``{"predictions": ...}`` (``wrap=False`` for bare output)."""
    from skiff.models._jsonable import dumps

    value = predictions_to_jsonable(predictions)
    return dumps({"predictions": value} if wrap else value)
