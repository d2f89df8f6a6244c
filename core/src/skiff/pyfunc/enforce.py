"""Schema enforcement: check and safely convert model input against the signature, and
validate inference params. Errors name the offending column (or tensor, or param) and the
types involved, with MLflow's error code and 3.x error class."""

from __future__ import annotations

import logging

from skiff.errors import SkiffException
from skiff.models.signature import AnyType, DataType, Schema, TensorSpec

_logger = logging.getLogger(__name__)
ERROR_CLASS = "SCHEMA_ENFORCEMENT_FAILED"


def _fail(message: str) -> SkiffException:
    return SkiffException(message, "INVALID_PARAMETER_VALUE", error_class=ERROR_CLASS)


# -- columns ------------------------------------------------------------------------------------
def _to_frame(data, schema: Schema):
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    names = schema.input_names()
    if isinstance(data, dict):
        if all(np.isscalar(v) or v is None for v in data.values()):
            return pd.DataFrame([data])
        return pd.DataFrame({k: list(v) if isinstance(v, np.ndarray) else v
                             for k, v in data.items()})
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = data.reshape(-1, 1) if len(names) == 1 else data.reshape(1, -1)
        if data.ndim != 2 or data.shape[1] != len(names):
            raise _fail(f"The input array has shape {data.shape} but the model expects "
                        f"{len(names)} columns: {names}")
        return pd.DataFrame(data, columns=names)
    if isinstance(data, list):
        if data and all(isinstance(x, dict) for x in data):
            return pd.DataFrame(data)
        if len(names) == 1:
            return pd.DataFrame({names[0]: data})
        return pd.DataFrame(data, columns=names)
    if np.isscalar(data):
        return pd.DataFrame({names[0]: [data]})
    raise _fail(f"Cannot apply a column schema to input of type {type(data).__name__}; "
                "expected a pandas DataFrame, a dict, a list or a numpy array")


class _Incompatible(SkiffException):
    def __init__(self, name, dtype, spec_type):
        super().__init__(
            f"Incompatible input types for column {name}. Can not safely convert {dtype} to "
            f"{spec_type.to_numpy()} (schema type '{spec_type.value}').",
            "INVALID_PARAMETER_VALUE", error_class=ERROR_CLASS)


_EXACT_DTYPES: dict = {}


def _exact_dtype(spec_type):
    """The numpy dtype a column of ``spec_type`` already has when nothing needs doing."""
    if not _EXACT_DTYPES:
        for t in (DataType.boolean, DataType.integer, DataType.long, DataType.float,
                  DataType.double, DataType.datetime):
            _EXACT_DTYPES[t] = t.to_numpy()
    return _EXACT_DTYPES.get(spec_type)


def _convert_column(series, spec_type, name):
    """The column converted to ``spec_type``, or an error naming it and both types."""
    import numpy as np
    import pandas as pd

    if isinstance(spec_type, AnyType) or not isinstance(spec_type, DataType):
        return series  # arrays, objects and maps are passed through as given
    dtype = series.dtype
    kind = getattr(getattr(dtype, "numpy_dtype", dtype), "kind", "O")
    bad = _Incompatible(name, dtype, spec_type)
    if spec_type in (DataType.double, DataType.float):
        if kind == "f":
            if spec_type is DataType.float and dtype.itemsize > 4:
                raise bad
            return series.astype(spec_type.to_numpy()) if dtype != spec_type.to_numpy() \
                else series
        if kind in "iu":
            if spec_type is DataType.float and dtype.itemsize > 2:
                return series.astype(np.float32)  # int to float32: accepted as MLflow does
            return series.astype(spec_type.to_numpy())
        raise bad
    if spec_type in (DataType.long, DataType.integer):
        target = spec_type.to_numpy()
        if kind in "iu":
            if dtype.itemsize > target.itemsize:
                info = np.iinfo(target)
                if len(series) and (series.min() < info.min or series.max() > info.max):
                    raise bad
            return series.astype(target) if dtype != target else series
        raise bad
    if spec_type is DataType.boolean:
        if kind == "b":
            return series.astype(bool) if dtype != np.dtype(bool) else series
        if kind == "O" and all(isinstance(v, (bool, np.bool_)) for v in series.dropna()):
            return series
        raise bad
    if spec_type is DataType.string:
        if pd.api.types.is_string_dtype(dtype) and all(
                isinstance(v, str) for v in series.dropna()):
            return series
        raise bad
    if spec_type is DataType.binary:
        if kind in "OS" and all(isinstance(v, (bytes, bytearray, str)) for v in series.dropna()):
            return series
        raise bad
    if spec_type is DataType.datetime:
        if kind == "M":
            return series
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError):
            raise bad from None
    return series


def _match_names(frame, names: list):
    """The frame with columns that match a schema name only as text (the column '0' for
    the name 0, as CSV input gives, or 0 for a name '0' written by older versions)
    renamed to that name, so the model sees the names it was saved with."""
    columns = list(frame.columns)
    if columns == names:
        return frame
    wanted = set(names)
    by_text = {str(n): n for n in names}
    renames = {}
    for column in columns:
        if column in wanted:
            continue
        target = by_text.get(str(column))
        if target is not None and target not in columns and target not in renames.values():
            renames[column] = target
    return frame.rename(columns=renames) if renames else frame


def enforce_columns(data, schema: Schema):
    frame = _to_frame(data, schema)
    specs = list(schema)
    if schema.has_input_names():
        names = [s.name for s in specs]
        frame = _match_names(frame, names)
        present = list(frame.columns)
        missing = [s.name for s in specs if s.required and s.name not in present]
        if missing:
            extra = [c for c in present if c not in names]
            note = f" Note that there were extra inputs: {extra}." if extra else ""
            raise _fail(f"Model is missing inputs {missing}.{note}")
        keep = [n for n in names if n in present]
        if present != keep:
            frame = frame[keep]
    else:
        if frame.shape[1] < len([s for s in specs if s.required]):
            raise _fail(f"Model expects {len(specs)} unnamed columns, the input has "
                        f"{frame.shape[1]}")
        frame = frame.iloc[:, :len(specs)]
    converted = {}
    dtypes = dict(zip(frame.columns, frame.dtypes))
    for position, spec in enumerate(specs):
        column = spec.name if spec.name is not None else frame.columns[position]
        if column not in dtypes:
            continue
        exact = _exact_dtype(spec.type)
        if exact is not None and dtypes[column] == exact:
            continue  # numeric, bool and datetime dtypes cannot hide wrong values
        series = frame[column]
        if series.isna().all() and not spec.required:
            continue
        if series.isna().any() and spec.required and spec.type not in (
                DataType.double, DataType.float):
            raise _fail(f"Incompatible input types for column {column}. The column is "
                        "required but holds missing values.")
        new = _convert_column(series, spec.type, column)
        if new is not series:
            converted[column] = new
    if converted:
        frame = frame.copy()
        for key, value in converted.items():
            frame[key] = value
    return frame


# -- tensors --------------------------------------------------------------------------------------
def _enforce_tensor(value, spec: TensorSpec, label: str):
    import numpy as np

    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    array = np.asarray(value)
    expected = spec.type
    if array.dtype != expected:
        same_kind = array.dtype.kind == expected.kind or (
            array.dtype.kind in "iu" and expected.kind == "f")
        if not (np.can_cast(array.dtype, expected, "safe") or (
                same_kind and array.dtype.kind != "f")) or array.dtype.kind == "O":
            raise _fail(f"dtype of input {array.dtype} does not match expected dtype "
                        f"{expected} for {label}")
        array = array.astype(expected)
    if spec.shape:
        if array.ndim != len(spec.shape):
            raise _fail(f"Shape of input {array.shape} does not match expected shape "
                        f"{spec.shape} for {label}")
        for got, want in zip(array.shape, spec.shape):
            if want != -1 and got != want:
                raise _fail(f"Shape of input {array.shape} does not match expected shape "
                            f"{spec.shape} for {label}")
    return array


def enforce_tensors(data, schema: Schema):
    specs = list(schema)
    if schema.has_input_names() and len(specs) > 1 or isinstance(data, dict):
        if not isinstance(data, dict):
            if hasattr(data, "columns"):
                data = {c: data[c].to_numpy() for c in data.columns}
            else:
                raise _fail(f"The model expects named tensors {schema.input_names()}; "
                            f"got {type(data).__name__}")
        missing = [s.name for s in specs if s.name not in data]
        if missing:
            raise _fail(f"Model is missing inputs {missing}.")
        if len(specs) == 1 and specs[0].name is None:
            return _enforce_tensor(next(iter(data.values())), specs[0], "the input")
        return {s.name: _enforce_tensor(data[s.name], s, f"input {s.name!r}") for s in specs}
    return _enforce_tensor(data, specs[0], "the input")


def validate_schema(data, schema: Schema):
    """Check and convert ``data`` against ``schema``; returns the data to pass to the
    model (a DataFrame for column schemas, numpy arrays for tensor schemas)."""
    if schema is None or not len(schema):
        return data
    if isinstance(list(schema)[0], TensorSpec):
        return enforce_tensors(data, schema)
    return enforce_columns(data, schema)


def validate_type_hinted(data, schema: Schema):
    """Models whose signature comes from ``predict``'s type hints take the hinted Python
    value itself (e.g. a list of strings), not a DataFrame: a one-column DataFrame becomes
    the list of its values, and list elements are checked against the column type."""
    specs = list(schema)
    if len(specs) != 1 or specs[0].name is not None or isinstance(specs[0], TensorSpec):
        return validate_schema(data, schema)
    spec = specs[0]
    if hasattr(data, "columns"):
        data = data.iloc[:, 0].tolist()
    if isinstance(data, list) and isinstance(spec.type, DataType):
        expected = spec.type.to_python()
        for position, value in enumerate(data):
            ok = isinstance(value, expected) or (
                expected is float and isinstance(value, int) and not isinstance(value, bool))
            if not ok:
                raise _fail(f"Failed to validate the input against the type hint: element "
                            f"{position} is {type(value).__name__}, expected "
                            f"{spec.type.value}")
    return data


# -- params ---------------------------------------------------------------------------------------
def enforce_params(params, param_schema):
    """Params with defaults filled in and values converted to the schema's types; unknown
    params are dropped with a warning, as MLflow does."""
    if param_schema is None:
        if params:
            # As MLflow: params reach a model only through a params schema.
            _logger.warning("Params can only be given to models whose signature has a params "
                            "schema; this one has none, so %s are ignored", sorted(params))
        return None
    if params is not None and not isinstance(params, dict):
        raise _fail(f"Params must be a dict, got {type(params).__name__}")
    params = dict(params or {})
    known = {p.name: p for p in param_schema}
    unknown = [k for k in params if k not in known]
    if unknown:
        _logger.warning("Unrecognized params %s are ignored (not in the params schema)", unknown)
    out = {}
    for name, spec in known.items():
        if name not in params:
            out[name] = spec.default
            continue
        out[name] = _convert_param(params[name], spec)
    return out


def _convert_param(value, spec):
    if value is None:
        return None
    if spec.shape is not None:
        if not isinstance(value, (list, tuple)) and not hasattr(value, "tolist"):
            raise _fail(f"Param {spec.name!r} must be a list of {spec.dtype.value}, "
                        f"got {type(value).__name__}")
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return [_convert_scalar(v, spec) for v in items]
    return _convert_scalar(value, spec)


def _convert_scalar(value, spec):
    import datetime

    t = spec.dtype
    bad = _fail(f"Failed to convert value {value!r} of param {spec.name!r} from type "
                f"{type(value).__name__} to '{t.value}'")
    if hasattr(value, "item") and not isinstance(value, (list, str)):
        value = value.item()
    if t is DataType.boolean:
        if isinstance(value, bool):
            return value
        raise bad
    if t in (DataType.long, DataType.integer):
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if t in (DataType.double, DataType.float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise bad
    if t is DataType.string:
        if isinstance(value, str):
            return value
        raise bad
    if t is DataType.datetime:
        if isinstance(value, datetime.datetime):
            return value
        try:
            return datetime.datetime.fromisoformat(str(value))
        except ValueError:
            raise bad from None
    return value
