"""MLflow's transport rules: content types, GET query strings, camelCase, double-encoded
JSON, wrong types, unknown routes and methods."""

from __future__ import annotations

import json

URL = "/api/2.0/mlflow/experiments/create"


def _err(response, status=400, code="INVALID_PARAMETER_VALUE"):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error_code"] == code
    return body["message"]


def test_content_type_is_required_for_post(client):
    msg = _err(client.post(URL, data=b'{"name": "x"}'))
    assert "Content-Type header is missing" in msg
    msg = _err(client.post(URL, data=b'{"name": "x"}', content_type="text/plain"))
    assert "Content-Type must be one of ['application/json']" in msg
    ok = client.post(URL, data=b'{"name": "x"}',
                     content_type="application/json; charset=utf-8")
    assert ok.status_code == 200


def test_malformed_and_non_object_json(client):
    assert "Malformed JSON" in _err(client.post(URL, data=b"{name:", content_type="application/json"))
    assert "JSON object" in _err(client.post(URL, data=b"[1]", content_type="application/json"))
    # An empty body is {} (so the required field is what is missing).
    assert "Missing value for required parameter 'name'" in _err(
        client.post(URL, data=b"", content_type="application/json"))


def test_double_encoded_json(client):
    body = json.dumps(json.dumps({"name": "double"}))
    r = client.post(URL, data=body, content_type="application/json")
    assert r.status_code == 200
    got = client.get("/api/2.0/mlflow/experiments/get-by-name",
                     query_string={"experiment_name": "double"})
    assert got.status_code == 200


def test_wrong_field_types(client):
    msg = _err(client.post(URL, json={"name": 5}))
    assert "Invalid value 5 for parameter 'name'" in msg and "int" in msg
    rid = client.post("/api/2.0/mlflow/runs/create", json={}).get_json()["run"]["info"]["run_id"]
    msg = _err(client.post("/api/2.0/mlflow/runs/log-metric",
                           json={"run_id": rid, "key": "m", "value": True, "timestamp": 1}))
    assert "'value'" in msg
    _err(client.post("/api/2.0/mlflow/runs/log-metric",
                     json={"run_id": rid, "key": "m", "value": 1, "timestamp": "soon"}))
    _err(client.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": rid, "metrics": "x"}))
    _err(client.post("/api/2.0/mlflow/runs/log-batch",
                     json={"run_id": rid, "metrics": [{"key": "m", "value": 1}]}))
    _err(client.post("/api/2.0/mlflow/runs/update", json={"run_id": rid, "status": "BOGUS"}))
    _err(client.post("/api/2.0/mlflow/runs/log-metric",
                     json={"run_id": rid, "key": "../x", "value": 1, "timestamp": 1}))
    _err(client.post("/api/2.0/mlflow/runs/search",
                     json={"experiment_ids": ["0"], "max_results": "many"}))


def test_get_query_string_rules(client):
    for i in range(3):
        client.post(URL, json={"name": f"q{i}"})
    r = client.get("/api/2.0/mlflow/experiments/search?max_results=2&view_type=ALL"
                   "&order_by=name&order_by=experiment_id")
    assert r.status_code == 200 and len(r.get_json()["experiments"]) == 2
    assert _err(client.get("/api/2.0/mlflow/experiments/search?max_results=x"))
    # GET with no query string falls back to a JSON body.
    r = client.open("/api/2.0/mlflow/experiments/search", method="GET",
                    json={"max_results": 1})
    assert r.status_code == 200 and len(r.get_json()["experiments"]) == 1
    # Unknown keys are ignored.
    r = client.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=q0&bogus=1")
    assert r.status_code == 200


def test_boolean_query_values(client):
    from flask import Flask

    from skiff_server.request import BOOL, get_params

    app = Flask("t")
    with app.test_request_context("/?flag=True"):
        app.extensions["skiff"] = type("S", (), {"config": type("C", (), {
            "max_json_bytes": 100})()})()
        assert get_params({"flag": BOOL})["flag"] is True
    with app.test_request_context("/?flag=FALSE"):
        assert get_params({"flag": BOOL}, limit=100)["flag"] is False
    with app.test_request_context("/?flag=yes"):
        import pytest

        from skiff.errors import SkiffException

        with pytest.raises(SkiffException, match="Invalid boolean value"):
            get_params({"flag": BOOL}, limit=100)


def test_camel_case_accepted_but_not_both(client):
    r = client.post("/api/2.0/mlflow/experiments/create",
                    json={"name": "camel", "artifactLocation": "file:///tmp/camel"})
    assert r.status_code == 200
    exp_id = r.get_json()["experiment_id"]
    got = client.get("/api/2.0/mlflow/experiments/get?experimentId=" + exp_id).get_json()
    assert got["experiment"]["artifact_location"] == "file:///tmp/camel"
    _err(client.post(URL, json={"name": "x", "artifact_location": "a", "artifactLocation": "b"}))


def test_required_fields(client):
    msg = _err(client.get("/api/2.0/mlflow/runs/get"))
    assert msg.startswith("Missing value for required parameter 'run_id'")
    _err(client.post("/api/2.0/mlflow/runs/log-parameter", json={"run_id": "a" * 32,
                                                                 "key": "k"}))
    _err(client.post("/api/2.0/mlflow/experiments/update", json={"experiment_id": "0"}))


def test_unknown_routes_and_methods(client):
    r = client.get("/api/2.0/mlflow/no-such-thing")
    assert r.status_code == 404 and r.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"
    r = client.delete("/api/2.0/mlflow/runs/create")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.get_json()["error_code"] == "BAD_REQUEST"
    # Outside the API the framework's HTML page is fine.
    assert client.get("/no-such-page").status_code == 404


def test_artifact_location_traversal_refused(client):
    _err(client.post(URL, json={"name": "t", "artifact_location": "s3://b/../../x"}))
    _err(client.post(URL, json={"name": "t", "artifact_location": "file:///a/%252e%252e/b"}))


def test_json_body_size_limit(make_app):
    client = make_app(max_json_bytes=1000).test_client()
    msg = _err(client.post(URL, json={"name": "x" * 2000}))
    assert "too large" in msg


def test_numbers_out_of_range_are_refused_not_crashes(client):
    # JSON integers beyond a double (value) or a 64-bit integer (step, timestamp): 400, and
    # nothing stored
    exp = client.post(URL, json={"name": "ranges"}).get_json()["experiment_id"]
    run_id = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": exp}) \
        .get_json()["run"]["info"]["run_id"]
    huge = "1" + "0" * 400
    bodies = [
        ("log-metric", f'{{"run_id": "{run_id}", "key": "m", "value": {huge}, "timestamp": 1}}'),
        ("log-batch", f'{{"run_id": "{run_id}", "metrics": [{{"key": "m", "value": {huge}, '
                      '"timestamp": 1}]}'),
        ("log-metric", f'{{"run_id": "{run_id}", "key": "m", "value": 1, '
                       f'"timestamp": {2**64}}}'),
        ("log-batch", f'{{"run_id": "{run_id}", "metrics": [{{"key": "m", "value": 1, '
                      f'"timestamp": 1, "step": {2**63}}}]}}'),
    ]
    for route, body in bodies:
        msg = _err(client.post(f"/api/2.0/mlflow/runs/{route}", data=body,
                               content_type="application/json"))
        assert "double" in msg or "64-bit integer" in msg
    history = client.get("/api/2.0/mlflow/metrics/get-history",
                         query_string={"run_id": run_id, "metric_key": "m"}).get_json()
    assert history.get("metrics", []) == []


def test_integer_fields_beyond_64_bits_are_refused(client):
    # every integer field is MLflow's int64: a larger one is a 400 naming the field, from a
    # query string or a JSON body alike, before any store sees it
    bulk = "/api/2.0/mlflow/metrics/get-history-bulk-interval"
    msg = _err(client.get(bulk, query_string={"run_ids": "a" * 32, "metric_key": "m",
                                               "start_step": 1, "end_step": 2**70}))
    assert "'end_step'" in msg and "64-bit integer" in msg
    msg = _err(client.post("/api/2.0/mlflow/runs/search", data=json.dumps(
        {"experiment_ids": ["0"], "max_results": -2**64}), content_type="application/json"))
    assert "'max_results'" in msg
