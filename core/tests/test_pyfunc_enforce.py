"""Schema enforcement: errors name the column (or tensor, or param) and the types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skiff.errors import SkiffException
from skiff.models import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec
from skiff.pyfunc.enforce import enforce_params, validate_schema, validate_type_hinted

COLS = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c"),
               ColSpec("boolean", "d", required=False)])


def test_valid_frame_is_converted_and_extra_columns_dropped():
    df = pd.DataFrame({"a": [1, 2], "b": np.array([3, 4], dtype="int32"), "c": ["x", "y"],
                       "extra": [0, 0]})
    out = validate_schema(df, COLS)
    assert list(out.columns) == ["a", "b", "c"]
    assert out["a"].dtype == np.float64 and out["b"].dtype == np.int64


def test_missing_column_is_named():
    with pytest.raises(SkiffException) as err:
        validate_schema(pd.DataFrame({"a": [1.0], "c": ["x"], "z": [1]}), COLS)
    assert "missing inputs ['b']" in err.value.message and "'z'" in err.value.message
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert err.value.to_dict()["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"


@pytest.mark.parametrize("column, value, expected", [
    ("a", "text", "column a"),
    ("b", 1.5, "column b"),
    ("c", 3, "column c"),
])
def test_wrong_type_names_column_and_types(column, value, expected):
    row = {"a": 1.0, "b": 1, "c": "x"}
    row[column] = value
    with pytest.raises(SkiffException) as err:
        validate_schema(pd.DataFrame([row]), COLS)
    assert expected in err.value.message and "convert" in err.value.message


def test_dicts_lists_and_arrays_become_frames():
    schema = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
    assert validate_schema({"a": 1.0, "b": 2.0}, schema).shape == (1, 2)
    assert validate_schema([{"a": 1, "b": 2}], schema)["a"].dtype == np.float64
    assert list(validate_schema(np.ones((3, 2)), schema).columns) == ["a", "b"]
    with pytest.raises(SkiffException, match="expects 2 columns"):
        validate_schema(np.ones((3, 3)), schema)


def test_int_range_is_checked_for_integer_columns():
    schema = Schema([ColSpec("integer", "n")])
    assert validate_schema(pd.DataFrame({"n": [1, 2]}), schema)["n"].dtype == np.int32
    with pytest.raises(SkiffException, match="column n"):
        validate_schema(pd.DataFrame({"n": [2**40]}), schema)


def test_tensors():
    schema = Schema([TensorSpec(np.dtype("float64"), (-1, 2))])
    assert validate_schema([[1, 2]], schema).dtype == np.float64
    with pytest.raises(SkiffException, match="Shape of input"):
        validate_schema(np.ones((2, 3)), schema)
    with pytest.raises(SkiffException, match="dtype of input"):
        validate_schema(np.array([["a", "b"]], dtype=object), schema)
    named = Schema([TensorSpec(np.dtype("int64"), (-1,), "x"),
                    TensorSpec(np.dtype("float32"), (-1,), "y")])
    with pytest.raises(SkiffException, match=r"missing inputs \['y'\]"):
        validate_schema({"x": np.array([1])}, named)
    out = validate_schema({"x": np.array([1]), "y": np.array([1.0], dtype="float32")}, named)
    assert set(out) == {"x", "y"}


def test_type_hinted_lists():
    schema = Schema([ColSpec("string")])
    assert validate_type_hinted(["a"], schema) == ["a"]
    assert validate_type_hinted(pd.DataFrame({"q": ["a", "b"]}), schema) == ["a", "b"]
    with pytest.raises(SkiffException, match="element 1 is int"):
        validate_type_hinted(["a", 2], schema)


def test_params():
    schema = ParamSchema([ParamSpec("k", "long", 1), ParamSpec("t", "double", 0.5),
                          ParamSpec("xs", "string", ["a"], (-1,))])
    assert enforce_params(None, schema) == {"k": 1, "t": 0.5, "xs": ["a"]}
    assert enforce_params({"k": 3.0, "t": 1, "unknown": 1}, schema) == {
        "k": 3, "t": 1.0, "xs": ["a"]}
    with pytest.raises(SkiffException, match="param 'k'"):
        enforce_params({"k": "three"}, schema)
    with pytest.raises(SkiffException, match="'xs' must be a list"):
        enforce_params({"xs": "a"}, schema)
    assert enforce_params({"free": 1}, None) is None


def test_number_names_match_text_columns_and_keep_the_schema_name():
    schema = Schema([ColSpec("double", 0), ColSpec("double", 1)])
    as_saved = validate_schema(pd.DataFrame({0: [1.0], 1: [2.0]}), schema)
    assert list(as_saved.columns) == [0, 1]
    from_csv = validate_schema(pd.DataFrame({"1": [2.0], "0": [1.0], "x": [0]}), schema)
    assert list(from_csv.columns) == [0, 1]  # the model sees the names it was saved with
    assert from_csv[0].tolist() == [1.0]
    with pytest.raises(SkiffException, match=r"missing inputs \[1\]. Note that there were "
                                             r"extra inputs: \['2'\]"):
        validate_schema(pd.DataFrame({0: [1.0], "2": [2.0]}), schema)
    older = Schema([ColSpec("double", "0")])  # a name written as text by older versions
    assert list(validate_schema(pd.DataFrame({0: [1.0]}), older).columns) == ["0"]
