"""The /invocations payloads (parsed once here, reused by the scoring server)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from skiff.errors import SkiffException
from skiff.models import ColSpec, Schema, TensorSpec
from skiff.pyfunc.scoring_io import (
    UnsupportedContentType,
    encode_predictions,
    parse_invocation_payload,
)

COLS = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
TENSOR = Schema([TensorSpec(np.dtype("float32"), (-1, 2))])


def parse(payload, content_type="application/json", schema=COLS):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return parse_invocation_payload(body, content_type, schema)


def test_dataframe_split_and_records():
    data, params = parse({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]},
                          "params": {"k": 1}})
    assert list(data.columns) == ["a", "b"] and params == {"k": 1}
    data, params = parse({"dataframe_records": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]})
    assert data.shape == (2, 2) and params is None


def test_instances_and_inputs():
    frame, _ = parse({"instances": [{"a": 1, "b": 2}]})
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["a", "b"]
    frame, _ = parse({"inputs": {"a": [1, 2], "b": [3, 4]}})
    assert frame.shape == (2, 2)
    rows, _ = parse({"inputs": [[1, 2], [3, 4]]})
    assert list(rows.columns) == ["a", "b"]
    array, _ = parse({"instances": [[1, 2]]}, schema=TENSOR)
    assert array.dtype == np.float32
    named, _ = parse({"inputs": {"x": [1, 2]}}, schema=None)
    assert isinstance(named["x"], np.ndarray)


def test_csv_and_charset():
    data, params = parse("a,b\n1,2\n", "text/csv; charset=utf-8")
    assert data.to_dict("list") == {"a": [1], "b": [2]} and params is None


def test_content_type_errors():
    with pytest.raises(UnsupportedContentType) as err:
        parse({"inputs": [1]}, "application/xml")
    assert err.value.http_status == 415 and "text/csv" in err.value.message
    with pytest.raises(UnsupportedContentType, match="MLflow 2.0"):
        parse({"inputs": [1]}, "application/json; format=pandas-split")


@pytest.mark.parametrize("payload, fragment", [
    ([1, 2], "Received a list"),
    ({"columns": ["a"], "data": [[1]]}, "exactly one of"),
    ({"inputs": [1], "instances": [1]}, "exactly one of"),
    ({"inputs": [1], "params": [1]}, "'params' must be"),
    ("{not json", "not valid JSON"),
])
def test_bad_payloads(payload, fragment):
    with pytest.raises(SkiffException) as err:
        parse(payload)
    assert fragment in err.value.message and err.value.error_code == "BAD_REQUEST"


def test_encode_predictions():
    assert json.loads(encode_predictions(np.array([1.0, 2.0]))) == {"predictions": [1.0, 2.0]}
    assert json.loads(encode_predictions(pd.DataFrame({"p": [1]}))) == {
        "predictions": [{"p": 1}]}
    assert json.loads(encode_predictions(pd.Series([True]))) == {"predictions": [True]}
    assert json.loads(encode_predictions({"x": np.arange(2)})) == {"predictions": {"x": [0, 1]}}
    assert json.loads(encode_predictions("hi", wrap=False)) == "hi"


def test_csv_keeps_string_columns_as_strings():
    schema = Schema([ColSpec("string", "zip"), ColSpec("double", "n")])
    data, _ = parse("zip,n\n02134,1\n", "text/csv", schema)
    assert data["zip"].tolist() == ["02134"]
