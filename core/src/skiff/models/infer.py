"""``infer_signature``: schemas from pandas DataFrames/Series, numpy arrays, dicts, lists
and scalars, and a params schema from a dict of defaults."""

from __future__ import annotations

import datetime as _dt

from skiff.errors import SkiffException
from skiff.models.signature import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)


def infer_signature(model_input=None, model_output=None, params: dict | None = None
                    ) -> ModelSignature:
    """A signature for ``model_input`` / ``model_output`` (either may be None) and, when
    given, a params schema whose defaults are ``params``' values."""
    inputs = _infer_schema(model_input) if model_input is not None else None
    outputs = _infer_schema(model_output) if model_output is not None else None
    param_schema = infer_param_schema(params) if params else None
    return ModelSignature(inputs, outputs, param_schema)


def _is_pandas(value, name: str) -> bool:
    import sys

    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, getattr(pd, name))


def _is_ndarray(value) -> bool:
    import sys

    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray)


def column_name(label):
    """A column label as MLflow writes it in a schema: strings and JSON numbers as they
    are (``0`` stays the number 0), numpy scalars as their Python value, anything else as
    its string."""
    if isinstance(label, (str, int, float)):  # bool is an int
        return label
    if type(label).__module__ == "numpy" and hasattr(label, "item"):
        value = label.item()
        if isinstance(value, (str, int, float)):
            return value
    return str(label)


def _infer_schema(data) -> Schema:
    if _is_pandas(data, "DataFrame"):
        return Schema([_col_spec(data.iloc[:, i], column_name(col))
                       for i, col in enumerate(data.columns)])
    if _is_pandas(data, "Series"):
        name = column_name(data.name) if data.name is not None else None
        return Schema([_col_spec(data, name)])
    if _is_ndarray(data):
        return Schema([_tensor_spec(data)])
    if _is_sparse(data):
        return Schema([TensorSpec(data.dtype, (-1, *data.shape[1:]))])
    if isinstance(data, dict):
        if not data:
            raise SkiffException.invalid_parameter_value("Cannot infer a schema from an empty dict")
        if all(_is_ndarray(v) for v in data.values()):
            return Schema([_tensor_spec(v, column_name(k)) for k, v in data.items()])
        return Schema([ColSpec(_value_type(v), column_name(k)) for k, v in data.items()])
    if isinstance(data, (list, tuple)):
        if not data:
            raise SkiffException.invalid_parameter_value("Cannot infer a schema from an empty list")
        if all(isinstance(x, dict) for x in data):
            return _schema_from_records(data)
        return Schema([ColSpec(_common_type([_value_type(x) for x in data]))])
    if _is_scalar(data):
        return Schema([ColSpec(_value_type(data))])
    raise SkiffException.invalid_parameter_value(
        f"Cannot infer a schema from {type(data).__name__}: expected a pandas DataFrame or "
        "Series, a numpy array, a dict, a list or a scalar")


def _is_sparse(value) -> bool:
    return type(value).__module__.startswith("scipy.sparse") and hasattr(value, "toarray")


def _is_scalar(value) -> bool:
    return isinstance(value, (str, bytes, bool, int, float, _dt.datetime)) or (
        type(value).__module__ == "numpy" and hasattr(value, "dtype"))


def _schema_from_records(records: list[dict]) -> Schema:
    seen: dict = {}
    for rec in records:
        for key, value in rec.items():
            seen.setdefault(column_name(key), []).append(value)
    specs = []
    for key, values in seen.items():
        present = [v for v in values if v is not None]
        dtype = _common_type([_value_type(v) for v in present]) if present else AnyType()
        specs.append(ColSpec(dtype, key, required=len(present) == len(records)))
    return Schema(specs)


def _tensor_spec(array, name: str | None = None) -> TensorSpec:
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    return TensorSpec(array.dtype, shape, name)


def _numpy_kind_type(dtype):
    """The DataType for a numpy/pandas dtype, or None for object-like dtypes."""
    kind = getattr(dtype, "kind", None)
    if kind == "b":
        return DataType.boolean
    if kind in ("i", "u"):
        wide = dtype.itemsize >= 8 or (kind == "u" and dtype.itemsize >= 4)
        return DataType.long if wide else DataType.integer
    if kind == "f":
        return DataType.double if dtype.itemsize >= 8 else DataType.float
    if kind == "M":
        return DataType.datetime
    if kind == "S":
        return DataType.binary
    if kind == "U":
        return DataType.string
    return None


def _col_spec(series, name: str | None) -> ColSpec:
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    numpy_dtype = getattr(dtype, "numpy_dtype", None)  # nullable Int64 / Float64 / boolean
    found = _numpy_kind_type(numpy_dtype if numpy_dtype is not None else dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        found = DataType.datetime
    if found is not None and not pd.api.types.is_string_dtype(dtype):
        required = True if numpy_dtype is None else not bool(series.isna().any())
        return ColSpec(found, name, required)
    values = [v for v in series.tolist() if not _is_missing(v)]
    required = len(values) == len(series)
    if not values:
        return ColSpec(DataType.string if pd.api.types.is_string_dtype(dtype) else AnyType(),
                       name, required)
    return ColSpec(_common_type([_value_type(v) for v in values]), name, required)


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return value != value  # NaN and pandas.NA
    except TypeError:
        return False


def _value_type(value):
    """The column type of one Python value (lists/arrays become Array, dicts Object)."""
    if isinstance(value, bool):
        return DataType.boolean
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, (bytes, bytearray)):
        return DataType.binary
    if isinstance(value, _dt.datetime) or type(value).__name__ == "Timestamp":
        return DataType.datetime
    if _is_ndarray(value):
        return Array(_common_type([_value_type(v) for v in value.tolist()])
                     if value.size else AnyType())
    if type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        found = _numpy_kind_type(value.dtype)
        if found is not None:
            return found
        return _value_type(value.item())
    if isinstance(value, (list, tuple)):
        present = [v for v in value if v is not None]
        return Array(_common_type([_value_type(v) for v in present]) if present else AnyType())
    if isinstance(value, dict):
        return Object([Property(str(k), _value_type(v) if v is not None else AnyType(),
                                v is not None) for k, v in value.items()])
    raise SkiffException.invalid_parameter_value(
        f"Cannot infer a column type from a value of type {type(value).__name__}")


def _common_type(types: list):
    """One type for a column holding values of ``types``; ints widen to doubles."""
    if not types:
        return AnyType()
    first = types[0]
    if all(t == first for t in types):
        return first
    numeric = (DataType.integer, DataType.long, DataType.float, DataType.double)
    if all(t in numeric for t in types):
        if any(t in (DataType.float, DataType.double) for t in types):
            return DataType.double
        return DataType.long
    if all(isinstance(t, Object) for t in types):
        merged: dict[str, Property] = {}
        for obj in types:
            for prop in obj.properties:
                merged.setdefault(prop.name, prop)
        names_everywhere = set.intersection(*[{p.name for p in t.properties} for t in types])
        return Object([Property(p.name, p.dtype, p.name in names_everywhere)
                       for p in merged.values()])
    if all(isinstance(t, Array) for t in types):
        return Array(_common_type([t.dtype for t in types if not isinstance(t.dtype, AnyType)]))
    if all(isinstance(t, Map) for t in types):
        return Map(_common_type([t.value_type for t in types]))
    return AnyType()


def infer_param_schema(params: dict) -> ParamSchema:
    """A params schema whose types come from ``params``' values (lists get shape (-1,))."""
    if not isinstance(params, dict):
        raise SkiffException.invalid_parameter_value(
            f"params must be a dict, got {type(params).__name__}")
    specs, bad = [], []
    for name, value in params.items():
        shape = None
        probe = value
        if isinstance(value, (list, tuple)) or _is_ndarray(value):
            value = value.tolist() if _is_ndarray(value) else list(value)
            shape = (-1,)
            probe = value[0] if value else None
        try:
            dtype = _value_type(probe)
        except SkiffException:
            dtype = None
        if not isinstance(dtype, DataType):
            bad.append(f"{name!r}: {type(probe).__name__}")
            continue
        if type(value).__module__ == "numpy":
            value = value.item()
        specs.append(ParamSpec(str(name), dtype, value, shape))
    if bad:
        raise SkiffException.invalid_parameter_value(
            "Params must be scalars or 1-D lists of scalars of one type; unsupported: "
            + ", ".join(bad))
    return ParamSchema(specs)
