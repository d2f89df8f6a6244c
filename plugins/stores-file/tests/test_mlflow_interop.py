"""Both tools read each other's ./mlruns: the real MLflow client (3.17 and 2.22) runs in its
own virtualenv as a subprocess, Skiff reads or writes the same folder in this process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import textwrap

import pytest

from skiff.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LoggedModelStatus,
    Metric,
    ModelOutput,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff.testing.venvs import MLFLOW_2, MLFLOW_3, ensure_venv
from skiff_stores_file.store import FileTrackingStore


def _run_mlflow(python, read_root: str, write_root: str) -> dict:
    """One MLflow process (importing mlflow takes seconds): it reads ``read_root``, which
    Skiff wrote, then writes ``write_root`` for Skiff to read."""
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true",
           "GIT_PYTHON_REFRESH": "quiet", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    script = "import mlflow, json\nresults = {}\n"
    script += f"mlflow.set_tracking_uri({read_root!r})\n" + textwrap.dedent(MLFLOW_READS)
    script += f"mlflow.set_tracking_uri({write_root!r})\n" + textwrap.dedent(MLFLOW_WRITES)
    script += "print(json.dumps(results))\n"
    done = subprocess.run([str(python), "-c", script], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mlflow3():
    return ensure_venv("mlflow3", [MLFLOW_3])


@pytest.fixture(scope="module")
def mlflow2():
    return ensure_venv("mlflow2", [MLFLOW_2])


MLFLOW_WRITES = """
import json, mlflow
from mlflow import MlflowClient
from mlflow.entities import DatasetInput, InputTag, Dataset, Metric, Param, RunTag
client = MlflowClient()
exp_id = client.create_experiment("from-mlflow", tags={"team": "vision", "nested/tag": "x"})
mlflow.set_experiment(experiment_id=exp_id)
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"lr": 0.01, "layers/first": "64"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("weird", float("nan"))
    mlflow.log_metric("big", float("inf"))
    mlflow.set_tag("stage", "dev")
    mlflow.log_text("hello", "notes/readme.txt")
    client.log_inputs(parent.info.run_id, [DatasetInput(
        Dataset("trainset", "d1g3st", "http", '{"url": "http://x/y.csv"}',
                schema='{"cols": 2}', profile='{"rows": 4}'),
        [InputTag("mlflow.data.context", "training")])])
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("acc", 0.9, step=3)
doomed = client.create_run(exp_id, run_name="doomed")
client.delete_run(doomed.info.run_id)
gone = client.create_experiment("gone-exp")
client.delete_experiment(gone)
extra = {}
if hasattr(client, "create_logged_model"):
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus
    model = client.create_logged_model(exp_id, name="clf", source_run_id=parent.info.run_id,
                                       params={"alpha": "1"}, tags={"k": "v"}, model_type="sk")
    client.log_outputs(parent.info.run_id, [LoggedModelOutput(model.model_id, 0)])
    client.log_metric(parent.info.run_id, "score", 0.75, model_id=model.model_id)
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    extra["model_id"] = model.model_id
results["wrote"] = {"exp_id": exp_id, "parent": parent.info.run_id,
                    "child": child.info.run_id, "doomed": doomed.info.run_id, "gone": gone,
                    **extra}
"""


@pytest.mark.parametrize("version", ["mlflow3", "mlflow2"])
def test_interop_both_ways(tmp_path, version, request):
    python = request.getfixturevalue(version)
    skiff_root, mlflow_root = str(tmp_path / "by-skiff"), str(tmp_path / "by-mlflow")
    written = _skiff_writes(skiff_root, with_models=version == "mlflow3")
    results = _run_mlflow(python, skiff_root, mlflow_root)
    _check_mlflow_read(results["read"], written)
    _check_skiff_reads(mlflow_root, results["wrote"])


def _check_skiff_reads(root: str, ids: dict) -> None:
    store = FileTrackingStore(root)

    exp = store.get_experiment(ids["exp_id"])
    assert exp.name == "from-mlflow"
    assert exp.tags == {"team": "vision", "nested/tag": "x"}
    assert store.get_experiment("0").name == "Default"
    assert store.get_experiment(ids["gone"]).lifecycle_stage == "deleted"
    active = {e.name for e in store.search_experiments()}
    assert active == {"Default", "from-mlflow"}

    parent = store.get_run(ids["parent"])
    assert parent.info.run_name == "parent"
    assert parent.info.status == "FINISHED"
    assert parent.info.end_time >= parent.info.start_time
    assert parent.data.params == {"lr": "0.01", "layers/first": "64"}
    assert parent.data.metrics["loss"] == 0.2
    assert math.isnan(parent.data.metrics["weird"])
    assert parent.data.metrics["big"] == math.inf
    assert parent.data.tags["stage"] == "dev"
    assert parent.data.tags["mlflow.runName"] == "parent"
    history = store.get_metric_history(ids["parent"], "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    [dataset_input] = parent.inputs.dataset_inputs
    assert dataset_input.dataset.name == "trainset"
    assert dataset_input.dataset.digest == "d1g3st"
    assert dataset_input.dataset.profile == '{"rows": 4}'
    assert [(t.key, t.value) for t in dataset_input.tags] == [("mlflow.data.context", "training")]

    child = store.get_run(ids["child"])
    assert child.data.tags["mlflow.parentRunId"] == ids["parent"]
    assert child.data.metrics == {"acc": 0.9}
    assert store.get_metric_history(ids["child"], "acc")[0].step == 3

    doomed = store.get_run(ids["doomed"])
    assert doomed.info.lifecycle_stage == "deleted"
    assert ids["doomed"] in store._get_deleted_runs()
    active_runs = {r.info.run_id for r in store.search_runs([ids["exp_id"]])}
    assert active_runs == {ids["parent"], ids["child"]}
    found = store.search_runs([ids["exp_id"]], "metrics.loss < 0.5 and params.lr = '0.01'")
    assert [r.info.run_id for r in found] == [ids["parent"]]
    every = store.search_runs([ids["exp_id"]], run_view_type=ViewType.ALL)
    assert len(every) == 3

    artifact_dir = parent.info.artifact_uri.replace("file://", "")
    with open(os.path.join(artifact_dir, "notes", "readme.txt")) as f:
        assert f.read() == "hello"

    if "model_id" in ids:
        model = store.get_logged_model(ids["model_id"])
        assert model.name == "clf" and model.status == "LOGGED_MODEL_READY"
        assert model.params == {"alpha": "1"} and model.tags == {"k": "v"}
        assert [(m.key, m.value, m.run_id) for m in model.metrics] == [
            ("score", 0.75, ids["parent"])]
        assert [o.model_id for o in parent.outputs.model_outputs] == [ids["model_id"]]
        assert [m.model_id for m in store.search_logged_models([ids["exp_id"]])] == [
            ids["model_id"]]

    # and Skiff can keep logging to MLflow's run
    store.log_metric(ids["parent"], Metric("loss", 0.1, 10, 5))
    assert store.get_run(ids["parent"]).data.metrics["loss"] == 0.1


def _skiff_writes(root: str, with_models: bool) -> dict:
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("from-skiff", tags=[ExperimentTag("team", "nlp")])
    parent = store.create_run(exp_id, "bob", 1000, [RunTag("mlflow.user", "bob")], "parent")
    pid = parent.info.run_id
    store.log_batch(
        pid,
        [Metric("loss", 1.0 / (s + 1), 2000 + s, s) for s in range(4)]
        + [Metric("odd", float("nan"), 2000, 0), Metric("nested/metric", 3.0, 2000, 0)],
        [Param("lr", "0.1"), Param("deep/param", "v")],
        [RunTag("stage", "prod")],
    )
    store.log_inputs(pid, [DatasetInput(
        Dataset("evalset", "abc", "local", '{"uri": "/d.csv"}', schema='{"s": 1}'),
        [InputTag("mlflow.data.context", "eval")])])
    child = store.create_run(exp_id, "bob", 1500, [RunTag("mlflow.parentRunId", pid)], None)
    store.update_run_info(child.info.run_id, RunStatus.FAILED, 3000, None)
    store.update_run_info(pid, RunStatus.FINISHED, 4000, None)
    doomed = store.create_run(exp_id, "bob", 1200, [], "doomed")
    store.delete_run(doomed.info.run_id)
    gone = store.create_experiment("gone-exp")
    store.delete_experiment(gone)
    artifact_dir = parent.info.artifact_uri.replace("file://", "")
    os.makedirs(os.path.join(artifact_dir, "sub"))
    with open(os.path.join(artifact_dir, "sub", "a.txt"), "w") as f:
        f.write("data")
    out = {"exp_id": exp_id, "parent": pid, "child": child.info.run_id,
           "child_name": child.info.run_name, "doomed": doomed.info.run_id, "gone": gone}
    if with_models:
        model = store.create_logged_model(exp_id, name="clf", source_run_id=pid,
                                          params=[Param("alpha", "2")],
                                          tags=[RunTag("k", "v")], model_type="sk")
        store.log_outputs(pid, [ModelOutput(model.model_id, 0)])
        store.log_batch(pid, [Metric("score", 0.5, 2500, 0, model_id=model.model_id)], [], [])
        store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
        out["model_id"] = model.model_id
    return out


MLFLOW_READS = """
import math
from mlflow import MlflowClient
from mlflow.entities import ViewType
client = MlflowClient()
def enc(v):
    return "nan" if isinstance(v, float) and math.isnan(v) else v
out = {"experiments": sorted(e.name for e in client.search_experiments(view_type=ViewType.ALL))}
exp = client.get_experiment_by_name("from-skiff")
out["exp_id"] = exp.experiment_id
out["exp_tags"] = exp.tags
out["deleted_exp"] = [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
runs = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)
out["runs"] = {r.info.run_id: {
    "name": r.info.run_name, "status": r.info.status, "stage": r.info.lifecycle_stage,
    "start": r.info.start_time, "end": r.info.end_time, "user": r.info.user_id,
    "metrics": {k: enc(v) for k, v in r.data.metrics.items()}, "params": r.data.params,
    "tags": {k: v for k, v in r.data.tags.items()},
    "artifact_uri": r.info.artifact_uri,
    "inputs": [[d.dataset.name, d.dataset.digest, d.dataset.schema,
                [[t.key, t.value] for t in d.tags]] for d in r.inputs.dataset_inputs],
} for r in runs}
parent = [r for r in runs if r.info.run_name == "parent"][0]
out["history"] = [[m.step, m.value, m.timestamp]
                  for m in client.get_metric_history(parent.info.run_id, "loss")]
out["filtered"] = [r.info.run_name for r in client.search_runs(
    [exp.experiment_id], "metrics.loss < 0.5 and params.lr = '0.1'")]
out["artifacts"] = [f.path for f in client.list_artifacts(parent.info.run_id, "sub")]
if hasattr(client, "get_logged_model"):
    models = client.search_logged_models([exp.experiment_id])
    out["models"] = [{"id": m.model_id, "name": m.name, "status": str(m.status),
                      "params": m.params, "tags": m.tags,
                      "metrics": [[x.key, x.value, x.run_id] for x in m.metrics]}
                     for m in models]
    out["outputs"] = [o.model_id for o in client.get_run(parent.info.run_id).outputs.model_outputs]
results["read"] = out
"""


def _check_mlflow_read(got: dict, ids: dict) -> None:
    assert got["experiments"] == ["Default", "from-skiff", "gone-exp"]
    assert got["deleted_exp"] == ["gone-exp"]
    assert got["exp_id"] == ids["exp_id"]
    assert got["exp_tags"] == {"team": "nlp"}
    runs = got["runs"]
    assert set(runs) == {ids["parent"], ids["child"], ids["doomed"]}
    parent = runs[ids["parent"]]
    assert parent["name"] == "parent" and parent["status"] == "FINISHED"
    assert (parent["start"], parent["end"], parent["user"]) == (1000, 4000, "bob")
    assert parent["stage"] == "active"
    assert parent["params"] == {"lr": "0.1", "deep/param": "v"}
    assert parent["metrics"]["loss"] == 0.25
    assert parent["metrics"]["odd"] == "nan"
    assert parent["metrics"]["nested/metric"] == 3.0
    assert parent["tags"]["stage"] == "prod" and parent["tags"]["mlflow.runName"] == "parent"
    assert parent["artifact_uri"].startswith("file://")
    assert parent["inputs"] == [["evalset", "abc", '{"s": 1}', [["mlflow.data.context", "eval"]]]]
    child = runs[ids["child"]]
    assert child["status"] == "FAILED" and child["name"] == ids["child_name"]
    assert child["tags"]["mlflow.parentRunId"] == ids["parent"]
    assert runs[ids["doomed"]]["stage"] == "deleted"
    assert got["history"] == [[s, 1.0 / (s + 1), 2000 + s] for s in range(4)]
    assert got["filtered"] == ["parent"]
    assert got["artifacts"] == ["sub/a.txt"]
    if "model_id" in ids:
        [model] = got["models"]
        assert model["id"] == ids["model_id"] and model["name"] == "clf"
        assert "READY" in model["status"]
        assert model["params"] == {"alpha": "2"} and model["tags"] == {"k": "v"}
        assert model["metrics"] == [["score", 0.5, ids["parent"]]]
        assert got["outputs"] == [ids["model_id"]]
