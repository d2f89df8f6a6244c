"""Driven by tests/compat: the real MLflow client (2.x or 3.x) logs to the tracking server
at MLFLOW_TRACKING_URI and prints what it read back as one JSON object on stdout."""

import json
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

EXP = "compat-exp-" + os.environ.get("COMPAT_SUFFIX", "0")
out = {"mlflow_version": mlflow.__version__}
client = MlflowClient()

exp_id = mlflow.create_experiment(EXP, tags={"team": "skiff"})
out["experiment"] = client.get_experiment(exp_id).name
out["by_name"] = client.get_experiment_by_name(EXP).experiment_id == exp_id
out["exp_tags"] = client.get_experiment(exp_id).tags.get("team")
mlflow.set_experiment(EXP)

run_ids = []
for i in range(5):
    with mlflow.start_run(run_name=f"run-{i}") as run:
        mlflow.log_param("i", str(i))
        mlflow.log_metric("m", i / 10, step=0)
        mlflow.log_metric("m", i / 5, step=1)
        mlflow.set_tag("parity", "even" if i % 2 == 0 else "odd")
        run_ids.append(run.info.run_id)

# Batch logging through the client API.
rid = run_ids[0]
client.log_batch(rid, metrics=[Metric("b", float(s), 1000 + s, s) for s in range(500)],
                 params=[Param("p1", "v1"), Param("p2", "v2")], tags=[RunTag("t", "x")])
out["history_len"] = len(client.get_metric_history(rid, "b"))
run = client.get_run(rid)
out["run_params"] = run.data.params
out["latest_b"] = run.data.metrics["b"]
out["status"] = run.info.status

# Param immutability is an error with MLflow's code.
try:
    client.log_param(rid, "i", "changed")
    out["param_overwrite"] = "accepted"
except MlflowException as exc:
    out["param_overwrite"] = exc.error_code

# Search with a filter, order and paging.
found = mlflow.search_runs([exp_id], filter_string="tags.parity = 'even'",
                           order_by=["params.i ASC"], output_format="list")
out["even_runs"] = sorted(r.data.params["i"] for r in found)
page1 = client.search_runs([exp_id], max_results=2, order_by=["attributes.run_name ASC"])
page2 = client.search_runs([exp_id], max_results=2, order_by=["attributes.run_name ASC"],
                           page_token=page1.token)
out["paging"] = [[r.info.run_name for r in page1], [r.info.run_name for r in page2],
                 bool(page1.token)]
metric_filter = client.search_runs([exp_id], filter_string="metrics.m >= 0.4")
out["metric_filter"] = sorted(r.info.run_name for r in metric_filter)
out["experiments"] = sorted(e.name for e in client.search_experiments())

# Artifacts through the proxy.
with mlflow.start_run(run_id=rid):
    mlflow.log_dict({"a": 1}, "d/x.json")
    mlflow.log_text("hello", "notes.txt")
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024 + 7))
        mlflow.log_artifact(big, "blobs")
        out["big_size"] = os.path.getsize(big)
out["artifact_uri"] = client.get_run(rid).info.artifact_uri
out["listing"] = sorted(f.path for f in client.list_artifacts(rid))
out["listing_d"] = sorted(f.path for f in client.list_artifacts(rid, "d"))
with tempfile.TemporaryDirectory() as tmp:
    local = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="d/x.json",
                                                dst_path=tmp)
    out["downloaded"] = json.load(open(local))
    local = client.download_artifacts(rid, "blobs", tmp)
    out["downloaded_big"] = os.path.getsize(os.path.join(local, "big.bin"))
out["text"] = mlflow.artifacts.load_text(f"runs:/{rid}/notes.txt")

# Delete and restore.
client.delete_run(run_ids[4])
out["after_delete"] = len(client.search_runs([exp_id]))
client.restore_run(run_ids[4])
out["after_restore"] = len(client.search_runs([exp_id]))
client.set_terminated(rid, "FAILED")
out["terminated"] = client.get_run(rid).info.status

try:
    client.get_run("0" * 32)
except MlflowException as exc:
    out["missing_run"] = exc.error_code

json.dump(out, sys.stdout)
