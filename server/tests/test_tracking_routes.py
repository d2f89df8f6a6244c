"""Every tracking route through Flask's test client, over the in-memory store."""

from __future__ import annotations

import json

import pytest


def test_experiment_lifecycle(api):
    exp_id = api.post("/experiments/create",
                      {"name": "e1", "tags": [{"key": "team", "value": "a"}]})["experiment_id"]
    exp = api.get("/experiments/get", {"experiment_id": exp_id})["experiment"]
    assert exp["name"] == "e1" and exp["tags"] == [{"key": "team", "value": "a"}]
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"
    assert api.get("/experiments/get-by-name", {"experiment_name": "e1"})["experiment"][
        "experiment_id"] == exp_id
    api.post("/experiments/update", {"experiment_id": exp_id, "new_name": "e2"})
    api.post("/experiments/set-experiment-tag", {"experiment_id": exp_id, "key": "k",
                                                 "value": ""})
    api.post("/experiments/delete-experiment-tag", {"experiment_id": exp_id, "key": "k"})
    api.post("/experiments/delete", {"experiment_id": exp_id})
    deleted = api.get("/experiments/search", {"max_results": 10, "view_type": "DELETED_ONLY"})
    assert [e["experiment_id"] for e in deleted["experiments"]] == [exp_id]
    api.post("/experiments/restore", {"experiment_id": exp_id})
    found = api.post("/experiments/search", {"max_results": 1, "view_type": 3})
    assert len(found["experiments"]) == 1 and found["next_page_token"]
    dup = api.post("/experiments/create", {"name": "e2"}, status=400)
    assert dup["error_code"] == "RESOURCE_ALREADY_EXISTS"
    missing = api.get("/experiments/get-by-name", {"experiment_name": "nope"}, status=404)
    assert missing["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_experiment_search_needs_max_results(api):
    err = api.post("/experiments/search", {}, status=400)
    assert "max_results" in err["message"]
    err = api.post("/experiments/search", {"max_results": 50001}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"


def test_run_lifecycle_and_logging(api):
    exp_id = api.experiment()
    run = api.post("/runs/create", {"experiment_id": exp_id, "user_id": "u", "start_time": 5,
                                    "run_name": "r", "tags": [{"key": "a", "value": "b"}]})["run"]
    info = run["info"]
    rid = info["run_id"]
    assert info["run_uuid"] == rid and info["status"] == "RUNNING" and info["start_time"] == 5
    assert info["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{rid}/artifacts"
    assert "end_time" not in info and run["inputs"] == {}
    # The Python client sends both run_id and run_uuid; older ones only run_uuid.
    api.post("/runs/log-metric", {"run_uuid": rid, "key": "m", "value": 1.5, "timestamp": 1,
                                  "step": 2})
    api.post("/runs/log-metric", {"run_id": rid, "key": "m", "value": "NaN", "timestamp": 2,
                                  "step": 3})
    api.post("/runs/log-parameter", {"run_id": rid, "run_uuid": rid, "key": "p", "value": "1"})
    api.post("/runs/log-parameter", {"run_id": rid, "key": "p", "value": "1"})  # same: no-op
    err = api.post("/runs/log-parameter", {"run_id": rid, "key": "p", "value": "2"},
                   status=400)
    assert "Changing param values is not allowed" in err["message"]
    api.post("/runs/set-tag", {"run_id": rid, "key": "t", "value": "v"})
    api.post("/runs/delete-tag", {"run_id": rid, "key": "t"})
    assert api.post("/runs/delete-tag", {"run_id": rid, "key": "t"},
                    status=404)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    got = api.get("/runs/get", {"run_id": rid})["run"]
    assert got["data"]["metrics"] == [{"key": "m", "value": "NaN", "timestamp": 2, "step": 3}]
    assert got["data"]["params"] == [{"key": "p", "value": "1"}]
    updated = api.post("/runs/update", {"run_id": rid, "status": "FINISHED", "end_time": 9,
                                        "run_name": "r2"})["run_info"]
    assert updated["status"] == "FINISHED" and updated["end_time"] == 9
    assert updated["run_name"] == "r2"
    api.post("/runs/delete", {"run_id": rid})
    assert api.get("/runs/get", {"run_uuid": rid})["run"]["info"]["lifecycle_stage"] == "deleted"
    api.post("/runs/restore", {"run_id": rid})
    assert api.get("/runs/get", {"run_id": "0" * 32}, status=404)["error_code"] == \
        "RESOURCE_DOES_NOT_EXIST"


def test_log_batch_and_history(api):
    rid = api.run()
    metrics = [{"key": "loss", "value": i / 10, "timestamp": 100 + i, "step": i}
               for i in range(10)]
    api.post("/runs/log-batch", {"run_id": rid, "metrics": metrics,
                                 "params": [{"key": "a", "value": "1"}],
                                 "tags": [{"key": "t", "value": "x"}]})
    hist = api.get("/metrics/get-history", {"run_id": rid, "metric_key": "loss"})
    assert [m["step"] for m in hist["metrics"]] == list(range(10))
    assert "run_id" not in hist["metrics"][0]
    page = api.get("/metrics/get-history", {"run_id": rid, "metric_key": "loss",
                                            "max_results": 4})
    assert len(page["metrics"]) == 4
    rest = api.get("/metrics/get-history", {"run_id": rid, "metric_key": "loss",
                                            "max_results": 100,
                                            "page_token": page["next_page_token"]})
    assert [m["step"] for m in rest["metrics"]] == list(range(4, 10))
    assert api.get("/metrics/get-history", {"run_id": rid, "metric_key": "none"}) == {}
    bulk = api.get("/metrics/get-history-bulk-interval",
                   {"run_ids": [rid], "metric_key": "loss", "max_results": 3})
    assert {m["run_id"] for m in bulk["metrics"]} == {rid}
    assert 3 <= len(bulk["metrics"]) <= 4
    ajax = api.client.get("/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                          query_string={"run_id": [rid], "metric_key": "loss"}).get_json()
    assert len(ajax["metrics"]) == 10 and ajax["metrics"][0]["run_id"] == rid


def test_log_batch_limits_refused_before_storing(api):
    rid = api.run()
    too_many = [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]
    err = api.post("/runs/log-batch", {"run_id": rid, "metrics": too_many}, status=400)
    assert "at most 1000 metrics" in err["message"]
    params = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    api.post("/runs/log-batch", {"run_id": rid, "params": params}, status=400)
    dupes = [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}]
    assert "Duplicate" in api.post("/runs/log-batch", {"run_id": rid, "params": dupes},
                                   status=400)["message"]
    # One bad metric refuses the whole batch: nothing is stored.
    mixed = [{"key": "ok", "value": 1, "timestamp": 1},
             {"key": "bad", "value": "x", "timestamp": 1}]
    api.post("/runs/log-batch", {"run_id": rid, "metrics": mixed}, status=400)
    huge = {"run_id": rid, "tags": [{"key": "t", "value": "x" * 1_000_001}]}
    err = api.post("/runs/log-batch", huge, status=400)
    assert "too large" in err["message"]
    data = api.get("/runs/get", {"run_id": rid})["run"]["data"]
    assert "metrics" not in data and "params" not in data


def test_search_runs(api):
    exp_id = api.experiment()
    ids = [api.run(exp_id, run_name=f"r{i}", start_time=i) for i in range(5)]
    for i, rid in enumerate(ids):
        api.post("/runs/log-metric", {"run_id": rid, "key": "m", "value": i, "timestamp": 1})
    res = api.post("/runs/search", {"experiment_ids": [exp_id], "max_results": 2})
    assert [r["info"]["run_name"] for r in res["runs"]] == ["r4", "r3"]
    res2 = api.post("/runs/search", {"experiment_ids": [exp_id], "max_results": 2,
                                     "page_token": res["next_page_token"]})
    assert [r["info"]["run_name"] for r in res2["runs"]] == ["r2", "r1"]
    assert api.post("/runs/search", {"experiment_ids": []}) == {}
    filtered = api.post("/runs/search", {"experiment_ids": [exp_id], "filter": "metrics.m >= 3",
                                         "order_by": ["metrics.m ASC"]})
    assert [r["info"]["run_name"] for r in filtered["runs"]] == ["r3", "r4"]
    bad = api.post("/runs/search", {"experiment_ids": [exp_id], "filter": "metrics.m >> 3"},
                   status=400)
    assert bad["error_code"] == "INVALID_PARAMETER_VALUE"
    api.post("/runs/search", {"experiment_ids": [exp_id], "max_results": 50001}, status=400)
    assert api.client.get("/api/2.0/mlflow/runs/search").status_code == 405


def test_log_model_inputs_outputs(api):
    rid = api.run()
    model_json = json.dumps({"artifact_path": "m", "flavors": {}, "utc_time_created": "x",
                             "run_id": rid})
    api.post("/runs/log-model", {"run_id": rid, "model_json": model_json})
    tags = {t["key"]: t["value"] for t in api.get("/runs/get", {"run_id": rid})["run"]["data"][
        "tags"]}
    assert json.loads(tags["mlflow.log-model.history"])[0]["artifact_path"] == "m"
    api.post("/runs/log-model", {"run_id": rid, "model_json": "{}"}, status=400)
    dataset = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    api.post("/runs/log-inputs", {"run_id": rid, "datasets": [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "train"}]}]})
    inputs = api.get("/runs/get", {"run_id": rid})["run"]["inputs"]
    assert inputs["dataset_inputs"][0]["dataset"]["name"] == "d"
    api.post("/runs/log-inputs", {"run_id": rid, "datasets": [{"dataset": {"name": "d"}}]},
             status=400)
    api.post("/runs/outputs", {"run_id": rid, "models": [{"model_id": "m-1", "step": 2}]})
    outputs = api.get("/runs/get", {"run_id": rid})["run"]["outputs"]
    assert outputs == {"model_outputs": [{"model_id": "m-1", "step": 2}]}


def test_logged_models(api):
    exp_id = api.experiment()
    rid = api.run(exp_id)
    model = api.post("/logged-models", {"experiment_id": exp_id, "name": "m",
                                        "source_run_id": rid, "model_type": "t",
                                        "params": [{"key": "a", "value": "1"}],
                                        "tags": [{"key": "k", "value": "v"}]})["model"]
    mid = model["info"]["model_id"]
    assert model["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert model["info"]["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/models/{mid}/artifacts"
    ready = api.call("PATCH", f"/logged-models/{mid}", {"model_id": mid,
                                                        "status": "LOGGED_MODEL_READY"})
    assert ready["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    api.call("PATCH", f"/logged-models/{mid}/tags", {"tags": [{"key": "x", "value": "y"}]})
    api.call("DELETE", f"/logged-models/{mid}/tags/k")
    api.post(f"/logged-models/{mid}/params", {"params": [{"key": "b", "value": "2"}]})
    got = api.get(f"/logged-models/{mid}")["model"]
    assert {t["key"] for t in got["info"]["tags"]} == {"x"}
    assert {p["key"] for p in got["data"]["params"]} == {"a", "b"}
    found = api.post("/logged-models/search", {"experiment_ids": [exp_id]})
    assert [m["info"]["model_id"] for m in found["models"]] == [mid]
    listing = api.get(f"/logged-models/{mid}/artifacts/directories")
    assert listing["root_uri"].endswith(f"/models/{mid}/artifacts")
    api.call("DELETE", f"/logged-models/{mid}")
    api.get(f"/logged-models/{mid}", status=404)
    api.post("/logged-models", {}, status=400)


def test_run_artifacts_list_get_and_upload(api, client):
    rid = api.run()
    run = api.get("/runs/get", {"run_id": rid})["run"]
    exp_id = run["info"]["experiment_id"]
    r = client.post(f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={rid}&path=dir/f.txt",
                    data=b"content")
    assert r.status_code == 200, r.get_data(as_text=True)
    listing = api.get("/artifacts/list", {"run_id": rid})
    assert listing["root_uri"] == run["info"]["artifact_uri"]
    assert listing["files"] == [{"path": "dir", "is_dir": True}]
    sub = api.get("/artifacts/list", {"run_id": rid, "path": "dir"})
    assert sub["files"] == [{"path": "dir/f.txt", "is_dir": False, "file_size": 7}]
    got = client.get("/get-artifact", query_string={"run_uuid": rid, "path": "dir/f.txt"})
    assert got.data == b"content" and "attachment" in got.headers["Content-Disposition"]
    via_proxy = client.get(f"/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{rid}/artifacts/"
                           "dir/f.txt")
    assert via_proxy.data == b"content"
    api.get("/artifacts/list", {"run_id": rid, "path": "../.."}, status=400)
    err = api.post("/artifacts/presigned-download-url", {"run_id": rid, "path": "dir/f.txt"},
                   status=501)
    assert err["error_code"] == "NOT_IMPLEMENTED"


def test_ajax_prefix_and_server_info(client):
    r = client.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": "ajax"})
    assert r.status_code == 200
    info = client.get("/api/3.0/mlflow/server-info").get_json()
    assert info["artifact_serving_enabled"] is True
    assert info["multipart_uploads_enabled"] is False
    assert client.get("/ajax-api/3.0/mlflow/server-info").status_code == 200


@pytest.mark.parametrize("prefix", ["/skiff", "/a/b"])
def test_static_prefix(make_app, prefix):
    client = make_app(static_prefix=prefix).test_client()
    assert client.get(f"{prefix}/health").data == b"OK"
    assert client.get(f"{prefix}/version").status_code == 200
    r = client.post(f"{prefix}/api/2.0/mlflow/experiments/create", json={"name": "p"})
    assert r.status_code == 200
    assert client.post("/api/2.0/mlflow/experiments/create",
                       json={"name": "q"}).status_code == 404
    assert client.get(f"{prefix}/").status_code == 200


def test_static_prefix_must_be_well_formed(make_app):
    from skiff.errors import SkiffException

    with pytest.raises(SkiffException):
        make_app(static_prefix="skiff/")
