"""The scoring app in process (Flask's test client): every payload format, MLflow's error
codes and statuses, the request timeout."""

from __future__ import annotations

import json

import pytest

pd = pytest.importorskip("pandas")

import scoring_models  # noqa: E402

from skiff.pyfunc import load_model  # noqa: E402
from skiff_server.scoring.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("scoring-models")


def _client(path, timeout=60):
    app = create_app(load_model(path), timeout)
    app.testing = True
    return app.test_client()


@pytest.fixture(scope="module")
def linear(models_dir):
    return _client(scoring_models.save(models_dir / "linear", scoring_models.Linear()))


def post(client, payload, content_type="application/json"):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post("/invocations", data=body, content_type=content_type)


def test_ping_health_version(linear):
    for route in ("/ping", "/health"):
        resp = linear.get(route)
        assert resp.status_code == 200 and resp.data == b"\n"
        assert resp.mimetype == "application/json"
    resp = linear.get("/version")
    assert resp.status_code == 200 and resp.data.decode()[0].isdigit()


@pytest.mark.parametrize("payload", [
    {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 3.0], [2.0, 4.0]]}},
    {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 3.0], [2.0, 4.0]],
                         "index": [7, 8]}},
    {"dataframe_records": [{"a": 1.0, "b": 3.0}, {"a": 2.0, "b": 4.0}]},
    {"instances": [{"a": 1.0, "b": 3.0}, {"a": 2.0, "b": 4.0}]},
    {"inputs": {"a": [1.0, 2.0], "b": [3.0, 4.0]}},
])
def test_json_formats(linear, payload):
    resp = post(linear, payload)
    assert resp.status_code == 200, resp.data
    assert resp.get_json() == {"predictions": [5.0, 8.0]}


def test_csv_and_charset(linear):
    resp = post(linear, "a,b\n1.0,3.0\n2.0,4.0\n", "text/csv")
    assert resp.status_code == 200 and resp.get_json() == {"predictions": [5.0, 8.0]}
    resp = post(linear, {"dataframe_records": [{"a": 1.0, "b": 3.0}]},
                "application/json; charset=utf-8")
    assert resp.status_code == 200 and resp.get_json() == {"predictions": [5.0]}


def test_params(linear):
    resp = post(linear, {"dataframe_records": [{"a": 1.0, "b": 3.0}], "params": {"scale": 2}})
    assert resp.status_code == 200 and resp.get_json() == {"predictions": [10.0]}
    resp = post(linear, {"dataframe_records": [{"a": 1.0, "b": 3.0}],
                         "params": {"scale": "big"}})
    assert resp.status_code == 400
    assert resp.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "scale" in resp.get_json()["message"]


def test_tensor_inputs_and_instances(models_dir):
    client = _client(scoring_models.save(models_dir / "sums", scoring_models.RowSums(),
                                         "tensor"))
    for key in ("inputs", "instances"):
        resp = post(client, {key: [[1.0, 2.0], [3.0, 4.0]]})
        assert resp.status_code == 200, resp.data
        assert resp.get_json() == {"predictions": [3.0, 7.0]}


def test_bad_content_types_are_415(linear):
    resp = post(linear, "a b", "text/plain")
    assert resp.status_code == 415
    body = resp.get_json()
    assert body["error_code"] == "BAD_REQUEST"
    for accepted in ("text/csv", "application/json", "application/vnd.apache.parquet"):
        assert accepted in body["message"]
    resp = post(linear, {"dataframe_records": [{"a": 1.0, "b": 3.0}]},
                "application/json; format=pandas-split")
    assert resp.status_code == 415 and "2.0" in resp.get_json()["message"]


def test_wrong_shapes_list_the_accepted_formats(linear):
    resp = post(linear, [[1.0, 3.0]])
    assert resp.status_code == 400
    assert resp.get_json()["error_code"] == "BAD_REQUEST"
    assert "list" in resp.get_json()["message"]
    resp = post(linear, {"columns": ["a", "b"], "data": [[1.0, 3.0]]})
    message = resp.get_json()["message"]
    assert resp.status_code == 400
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        assert key in message
    resp = post(linear, "{not json")
    assert resp.status_code == 400 and resp.get_json()["error_code"] == "BAD_REQUEST"


def test_schema_errors_name_the_column_and_type(linear):
    resp = post(linear, {"dataframe_records": [{"a": 1.0}]})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE" and "'b'" in body["message"]
    resp = post(linear, {"dataframe_records": [{"a": "x", "b": 1.0}]})
    body = resp.get_json()
    assert resp.status_code == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "column a" in body["message"] and "double" in body["message"]


def test_rows_of_the_wrong_width_name_the_columns(linear):
    for payload in ({"instances": [[1.0, 3.0, 5.0]]}, {"inputs": [[1.0], [2.0]]}):
        resp = post(linear, payload)
        body = resp.get_json()
        assert resp.status_code == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "2 columns: ['a', 'b']" in body["message"], body["message"]
    resp = post(linear, {"instances": [[1.0, 3.0]]})
    assert resp.status_code == 200 and resp.get_json() == {"predictions": [5.0]}


def test_number_column_names_from_json_and_csv(models_dir):
    """A signature with the names 0 and 1 (JSON numbers, as MLflow writes them): JSON
    payloads give numbers, CSV headers give text; both reach the model as 0 and 1."""
    from skiff.models import infer_signature
    from skiff.pyfunc import save_model

    example = pd.DataFrame({0: [1.0], 1: [3.0]})
    path = models_dir / "numbered"
    save_model(str(path), python_model=scoring_models.Numbered(),
               signature=infer_signature(example))
    client = _client(str(path))
    resp = post(client, {"dataframe_split": {"columns": [0, 1], "data": [[1.0, 3.0]]}})
    assert resp.status_code == 200 and resp.get_json() == {"predictions": [5.0]}
    resp = post(client, "0,1\n1.0,3.0\n", "text/csv")
    assert resp.status_code == 200 and resp.get_json() == {"predictions": [5.0]}
    resp = post(client, {"dataframe_split": {"columns": [0, 2], "data": [[1.0, 3.0]]}})
    assert resp.status_code == 400
    assert "missing inputs [1]" in resp.get_json()["message"]


def test_model_exception_is_400_with_stack_trace(models_dir):
    client = _client(scoring_models.save(models_dir / "failing", scoring_models.Failing()))
    resp = post(client, {"dataframe_records": [{"a": 1.0, "b": 3.0}]})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error_code"] == "BAD_REQUEST" and "the model broke" in body["message"]
    assert "ValueError" in body["stack_trace"]


def test_timeout_answers_504(models_dir):
    import time

    client = _client(scoring_models.save(models_dir / "busy", scoring_models.Busy()),
                     timeout=0.5)
    start = time.monotonic()
    resp = post(client, {"dataframe_records": [{"a": 1.0, "b": 3.0}]})
    assert time.monotonic() - start < 3
    assert resp.status_code == 504
    assert resp.get_json() == {"error_code": "DEADLINE_EXCEEDED",
                               "message": "Request processing time exceeded limit"}
    # The same thread serves the next request normally.
    resp = client.get("/ping")
    assert resp.status_code == 200


def test_unknown_route_and_method(linear):
    resp = linear.get("/nope")
    assert resp.status_code == 404 and resp.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"
    resp = linear.get("/invocations")
    assert resp.status_code == 405


def test_unloaded_model_pings_404():
    app = create_app(None, load_error="could not load")
    client = app.test_client()
    assert client.get("/ping").status_code == 404
    resp = client.post("/invocations", data="{}", content_type="application/json")
    assert resp.status_code == 503


@pytest.mark.parametrize("split", [
    {"columns": ["a", "b"], "data": [[1, 3], [2, 4.0]]},
    {"columns": ["b", "a"], "data": [[3.0, 1.0]]},
    {"columns": ["a", "b"], "data": [[True, 3.0]]},
    {"columns": ["a", "b"], "data": [[None, 3.0]]},
    {"columns": ["a", "b"], "data": [["1.0", 3.0]]},
    {"columns": ["a", "b"], "data": [[1.0]]},
    {"columns": ["a", "b"], "data": []},
    {"columns": ["a", "b", "c"], "data": [[1.0, 3.0, 5.0]]},
])
def test_split_shortcut_answers_as_the_general_path(models_dir, split):
    from skiff_server.scoring.invocations import Invoker

    model = load_model(scoring_models.save(models_dir / f"lin-{id(split)}",
                                           scoring_models.Linear()))
    fast, general = Invoker(model), Invoker(model)
    general.shortcut.names = None
    body = json.dumps({"dataframe_split": split}).encode()
    got, want = fast.invoke(body, "application/json"), general.invoke(body, "application/json")
    assert got[0] == want[0]
    if got[0] == 200:
        assert got[1] == want[1]
    else:
        assert json.loads(got[1])["error_code"] == json.loads(want[1])["error_code"]
