"""Signatures: MLflow's JSON for column, tensor and params schemas, and inference."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pandas as pd
import pytest

from skiff.errors import SkiffException
from skiff.models import (
    Array,
    ColSpec,
    DataType,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    infer_signature,
)


def test_colspec_json_matches_mlflow():
    schema = Schema([ColSpec("double", "a"), ColSpec(DataType.long, "b", required=False)])
    assert schema.to_json() == ('[{"type": "double", "name": "a", "required": true}, '
                                '{"type": "long", "name": "b", "required": false}]')
    assert Schema.from_json(schema.to_json()) == schema


def test_tensor_and_params_json_matches_mlflow():
    tensor = Schema([TensorSpec(np.dtype("int64"), (-1,))])
    assert tensor.to_json() == '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
    params = ParamSchema([ParamSpec("k", "long", 2), ParamSpec("xs", "double", [1.0], (-1,))])
    assert json.loads(params.to_json()) == [
        {"name": "k", "default": 2, "shape": None, "type": "long"},
        {"name": "xs", "default": [1.0], "shape": [-1], "type": "double"}]
    sig = ModelSignature(tensor, tensor, params)
    assert ModelSignature.from_dict(sig.to_dict()) == sig
    assert ModelSignature(tensor).to_dict()["params"] is None


def test_nested_types_round_trip():
    text = json.dumps([
        {"type": "array", "items": {"type": "string"}, "name": "tags", "required": True},
        {"type": "object", "properties": {"x": {"type": "double", "required": True}},
         "name": "point", "required": False},
        {"type": "map", "values": {"type": "long"}, "name": "counts", "required": True},
        {"type": "any", "name": "blob", "required": True},
    ])
    schema = Schema.from_json(text)
    assert isinstance(schema.inputs[0].type, Array)
    assert isinstance(schema.inputs[1].type, Object)
    assert json.loads(schema.to_json()) == json.loads(text)


def test_mixed_schema_is_refused():
    with pytest.raises(SkiffException, match="not both"):
        Schema([ColSpec("double", "a"), TensorSpec(np.dtype("float64"), (-1,), "b")])
    with pytest.raises(SkiffException, match="Unsupported type"):
        ColSpec("decimal", "a")


def test_infer_from_dataframe_dtypes():
    df = pd.DataFrame({
        "i64": np.array([1, 2], dtype="int64"), "i32": np.array([1, 2], dtype="int32"),
        "f32": np.array([1, 2], dtype="float32"), "f64": [1.5, 2.5], "b": [True, False],
        "s": ["x", "y"], "raw": [b"a", b"b"],
        "t": pd.to_datetime(["2024-01-01", "2024-01-02"]), "opt": ["x", None],
    })
    inputs = infer_signature(df).inputs
    types = {c.name: c.type for c in inputs}
    assert types == {"i64": DataType.long, "i32": DataType.integer, "f32": DataType.float,
                     "f64": DataType.double, "b": DataType.boolean, "s": DataType.string,
                     "raw": DataType.binary, "t": DataType.datetime, "opt": DataType.string}
    assert {c.name: c.required for c in inputs}["opt"] is False


def test_infer_from_numpy_dicts_lists_and_scalars():
    sig = infer_signature(np.zeros((5, 3), dtype="float32"), np.array([1, 2]))
    assert sig.inputs.to_dict() == [{"type": "tensor", "tensor-spec": {"dtype": "float32",
                                                                       "shape": [-1, 3]}}]
    named = infer_signature({"a": np.zeros((2, 2)), "b": np.zeros(2, dtype="int32")}).inputs
    assert [s.name for s in named] == ["a", "b"] and named.is_tensor_spec()
    cols = infer_signature({"a": 1.0, "b": "x", "c": [1, 2]}).inputs
    assert [c.type for c in cols][:2] == [DataType.double, DataType.string]
    assert cols.inputs[2].type == Array(DataType.long)
    strings = infer_signature(["a", "b"]).inputs
    assert strings.to_dict() == [{"type": "string", "required": True}]
    records = infer_signature([{"a": 1, "b": "x"}, {"a": 2}]).inputs
    assert {c.name: c.required for c in records} == {"a": True, "b": False}
    assert infer_signature("hello").inputs.to_dict() == [{"type": "string", "required": True}]
    assert infer_signature(pd.Series([1.0, 2.0])).inputs.to_dict() == [
        {"type": "double", "required": True}]


def test_infer_params():
    sig = infer_signature(["x"], params={"k": 1, "t": 0.5, "s": "a", "flag": True,
                                         "xs": [1, 2], "when": datetime.datetime(2024, 1, 1)})
    by_name = {p.name: p for p in sig.params}
    assert by_name["k"].dtype is DataType.long and by_name["t"].dtype is DataType.double
    assert by_name["flag"].dtype is DataType.boolean and by_name["xs"].shape == (-1,)
    assert by_name["when"].to_dict()["default"] == "2024-01-01T00:00:00"
    with pytest.raises(SkiffException, match="'bad'"):
        infer_signature(["x"], params={"bad": {"nested": 1}})


def test_empty_inputs_are_refused():
    with pytest.raises(SkiffException, match="empty"):
        infer_signature([])
    with pytest.raises(SkiffException, match="Cannot infer"):
        infer_signature(object())


def test_non_string_column_names_stay_json_numbers():
    # MLflow 3.x writes the label as it is: {"name": 0}, not {"name": "0"}
    sig = infer_signature(pd.DataFrame({0: [1.0], 1: [2.0]}), pd.Series([1.0], name=3))
    assert sig.to_dict()["inputs"] == ('[{"type": "double", "name": 0, "required": true}, '
                                       '{"type": "double", "name": 1, "required": true}]')
    assert sig.to_dict()["outputs"] == '[{"type": "double", "name": 3, "required": true}]'
    assert ModelSignature.from_dict(sig.to_dict()).inputs.input_names() == [0, 1]
    numpy_labels = pd.DataFrame(np.ones((1, 2)), columns=pd.Index(np.array([5, 6])))
    assert infer_signature(numpy_labels).inputs.input_names() == [5, 6]
    mixed = infer_signature(pd.DataFrame({0: [1], "a": [2.0], 1.5: ["x"]})).inputs
    assert mixed.to_json() == ('[{"type": "long", "name": 0, "required": true}, '
                               '{"type": "double", "name": "a", "required": true}, '
                               '{"type": "string", "name": 1.5, "required": true}]')
    tensors = infer_signature({1: np.array([1.0])}).inputs
    assert tensors.to_json() == ('[{"type": "tensor", "tensor-spec": {"dtype": "float64", '
                                 '"shape": [-1]}, "name": 1}]')
    records = infer_signature([{1: "a"}, {1: "b", "x": 2}]).inputs
    assert records.input_names() == [1, "x"]
