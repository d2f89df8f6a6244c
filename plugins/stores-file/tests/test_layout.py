"""The on-disk layout is MLflow's, byte for byte where it matters."""

from __future__ import annotations

import hashlib
import os
import re

import pytest
import yaml

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
)
from skiff_stores_file.store import FileTrackingStore


def _yaml(path):
    with open(path) as f:
        text = f.read()
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0] != " "]
    assert keys == sorted(keys), f"{path}: keys not sorted"
    return yaml.safe_load(text)


def _raw(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "mlruns")


def test_default_experiment_and_trash(root):
    FileTrackingStore(root)
    assert sorted(os.listdir(root)) == [".trash", "0"]
    meta = _yaml(os.path.join(root, "0", "meta.yaml"))
    assert meta["experiment_id"] == "0" and meta["name"] == "Default"
    assert meta["artifact_location"] == "file://" + os.path.join(root, "0")
    assert meta["lifecycle_stage"] == "active"
    assert isinstance(meta["creation_time"], int)
    assert meta["last_update_time"] == meta["creation_time"]


def test_file_uri_and_plain_path_are_the_same_store(root):
    exp_id = FileTrackingStore(root).create_experiment("x")
    assert FileTrackingStore("file://" + root).get_experiment(exp_id).name == "x"


def test_experiment_layout(root):
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("demo", tags=[ExperimentTag("a/b", "v")])
    assert re.fullmatch(r"[1-9]\d{17}", exp_id)
    exp_dir = os.path.join(root, exp_id)
    meta = _yaml(os.path.join(exp_dir, "meta.yaml"))
    assert meta["experiment_id"] == exp_id  # a string, quoted in YAML
    assert meta["name"] == "demo"
    assert meta["artifact_location"] == "file://" + exp_dir
    assert "tags" not in meta
    assert _raw(os.path.join(exp_dir, "tags", "a", "b")) == "v"

    store.delete_experiment(exp_id)
    assert not os.path.exists(exp_dir)
    trashed = _yaml(os.path.join(root, ".trash", exp_id, "meta.yaml"))
    assert trashed["lifecycle_stage"] == "deleted"
    assert trashed["last_update_time"] >= trashed["creation_time"]
    store.restore_experiment(exp_id)
    assert _yaml(os.path.join(exp_dir, "meta.yaml"))["lifecycle_stage"] == "active"


def test_default_experiment_cannot_be_deleted(root):
    store = FileTrackingStore(root)
    with pytest.raises(Exception, match="default experiment"):
        store.delete_experiment("0")


def test_run_layout(root):
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("demo")
    run = store.create_run(exp_id, "alice", 1234, [RunTag("x", "1")], "named")
    run_id = run.info.run_id
    run_dir = os.path.join(root, exp_id, run_id)
    assert {"meta.yaml", "metrics", "params", "artifacts", "tags"} <= set(os.listdir(run_dir))
    meta = _yaml(os.path.join(run_dir, "meta.yaml"))
    assert meta == {
        "artifact_uri": f"file://{run_dir}/artifacts", "deleted_time": None, "end_time": None,
        "entry_point_name": "", "experiment_id": exp_id, "lifecycle_stage": "active",
        "run_id": run_id, "run_name": "named", "source_name": "", "source_type": 4,
        "source_version": "", "start_time": 1234, "status": 1, "tags": [], "user_id": "alice",
    }
    assert run.info.artifact_uri == f"file://{run_dir}/artifacts"

    store.log_batch(run_id, [Metric("loss", 0.5, 10, 2), Metric("loss", float("nan"), 11, 3),
                             Metric("a/b", 1, 12, -1)],
                    [Param("p", "multi\nline"), Param("q/r", "1")], [RunTag("t", "v")])
    assert _raw(os.path.join(run_dir, "metrics", "loss")) == "10 0.5 2\n11 nan 3\n"
    assert _raw(os.path.join(run_dir, "metrics", "a", "b")) == "12 1.0 -1\n"
    assert _raw(os.path.join(run_dir, "params", "p")) == "multi\nline"
    assert _raw(os.path.join(run_dir, "params", "q", "r")) == "1"
    assert _raw(os.path.join(run_dir, "tags", "t")) == "v"
    assert _raw(os.path.join(run_dir, "tags", "mlflow.runName")) == "named"
    assert not [n for n in os.listdir(run_dir) if n.startswith(".")]  # no temp files left

    store.update_run_info(run_id, RunStatus.FINISHED, 5678, None)
    meta = _yaml(os.path.join(run_dir, "meta.yaml"))
    assert (meta["status"], meta["end_time"]) == (3, 5678)
    store.delete_run(run_id)
    meta = _yaml(os.path.join(run_dir, "meta.yaml"))
    assert meta["lifecycle_stage"] == "deleted" and isinstance(meta["deleted_time"], int)
    store.restore_run(run_id)
    meta = _yaml(os.path.join(run_dir, "meta.yaml"))
    assert meta["lifecycle_stage"] == "active" and "deleted_time" not in meta


def test_default_artifact_root(tmp_path):
    store = FileTrackingStore(str(tmp_path / "mlruns"), "s3://bucket/prefix")
    exp_id = store.create_experiment("demo")
    assert store.get_experiment(exp_id).artifact_location == f"s3://bucket/prefix/{exp_id}"
    run = store.create_run(exp_id, "u", 1, [], "r")
    assert run.info.artifact_uri == f"s3://bucket/prefix/{exp_id}/{run.info.run_id}/artifacts"
    local = FileTrackingStore(str(tmp_path / "other"), str(tmp_path / "art"))
    exp_id = local.create_experiment("demo")
    assert local.get_experiment(exp_id).artifact_location == \
        "file://" + str(tmp_path / "art" / exp_id)


def test_inputs_and_outputs_layout(root):
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("demo")
    run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
    dataset = Dataset("train", "d1", "local", '{"uri": "x"}', schema=None, profile='{"n": 1}')
    store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "tr")])])
    ds_id = hashlib.md5(b"train" + b"d1").hexdigest()
    assert _yaml(os.path.join(root, exp_id, "datasets", ds_id, "meta.yaml")) == {
        "digest": "d1", "name": "train", "profile": '{"n": 1}', "schema": None,
        "source": '{"uri": "x"}', "source_type": "local"}
    link_id = hashlib.md5((ds_id + run_id).encode()).hexdigest()
    assert _yaml(os.path.join(root, exp_id, run_id, "inputs", link_id, "meta.yaml")) == {
        "destination_id": ds_id, "destination_type": "RUN", "source_id": ds_id,
        "source_type": "DATASET", "tags": {"mlflow.data.context": "tr"}}

    model = store.create_logged_model(exp_id, name="m", source_run_id=run_id)
    store.log_outputs(run_id, [ModelOutput(model.model_id, 2)])
    assert _yaml(os.path.join(root, exp_id, run_id, "outputs", model.model_id,
                              "meta.yaml")) == {
        "destination_id": model.model_id, "destination_type": "MODEL_OUTPUT",
        "source_id": model.model_id, "source_type": "RUN_OUTPUT", "step": 2, "tags": {}}


def test_logged_model_layout(root):
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("demo")
    run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
    model = store.create_logged_model(exp_id, name="clf", source_run_id=run_id,
                                      params=[Param("a", "1")], tags=[RunTag("k", "v")],
                                      model_type="sk")
    model_dir = os.path.join(root, exp_id, "models", model.model_id)
    meta = _yaml(os.path.join(model_dir, "meta.yaml"))
    assert meta["status"] == 1 and meta["model_id"] == model.model_id
    assert meta["artifact_location"] == f"file://{model_dir}/artifacts"
    assert meta["experiment_id"] == exp_id and meta["source_run_id"] == run_id
    assert _raw(os.path.join(model_dir, "params", "a")) == "1"
    assert _raw(os.path.join(model_dir, "tags", "k")) == "v"
    store.log_batch(run_id, [Metric("acc", 0.5, 7, 1, model_id=model.model_id)], [], [])
    assert _raw(os.path.join(model_dir, "metrics", "acc")) == f"7 0.5 1 {run_id}\n"
    store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert _yaml(os.path.join(model_dir, "meta.yaml"))["status"] == 2


def test_reads_mlflow_2_variants(root):
    """run_uuid instead of run_id, integer experiment IDs, 2- and 5-field metric lines."""
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("old")
    run_id = "0123456789abcdef0123456789abcdef"
    run_dir = os.path.join(root, exp_id, run_id)
    for sub in ("metrics", "params", "artifacts", "tags"):
        os.makedirs(os.path.join(run_dir, sub))
    with open(os.path.join(run_dir, "meta.yaml"), "w") as f:
        yaml.safe_dump({"artifact_uri": "/x", "end_time": None, "entry_point_name": "",
                        "experiment_id": int(exp_id), "lifecycle_stage": "active",
                        "name": "", "run_uuid": run_id, "source_name": "", "source_type": 4,
                        "source_version": "", "start_time": 5, "status": 3, "tags": [],
                        "user_id": "old"}, f)
    with open(os.path.join(run_dir, "metrics", "two"), "w") as f:
        f.write("100 1.5\n200 2.5\n")
    with open(os.path.join(run_dir, "metrics", "five"), "w") as f:
        f.write("100 1.0 4 ds d1\n")
    with open(os.path.join(run_dir, "tags", "mlflow.runName"), "w") as f:
        f.write("legacy")
    run = store.get_run(run_id)
    assert run.info.run_id == run_id and run.info.experiment_id == exp_id
    assert run.info.status == "FINISHED" and run.info.run_name == "legacy"
    assert run.data.metrics == {"two": 2.5, "five": 1.0}
    [five] = store.get_metric_history(run_id, "five")
    assert (five.step, five.dataset_name, five.dataset_digest) == (4, "ds", "d1")
    assert [r.info.run_id for r in store.search_runs([exp_id])] == [run_id]


def test_plugin_registers_file_schemes(tmp_path, plugin_manager):
    from skiff.tracking._stores import clear_store_cache, get_tracking_store

    clear_store_cache()
    store = get_tracking_store(str(tmp_path / "a"))
    assert type(store).__name__ == "FileTrackingStore"
    store = get_tracking_store("file://" + str(tmp_path / "b"))
    assert type(store).__name__ == "FileTrackingStore"
    assert os.path.isdir(tmp_path / "b" / "0")
    clear_store_cache()


def test_search_datasets(root):
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("demo")
    for context in ("train", "train", "eval"):
        run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
        store.log_inputs(run_id, [DatasetInput(Dataset("ds", "d1", "local", "{}"),
                                               [InputTag("mlflow.data.context", context)])])
    got = sorted(store._search_datasets([exp_id]), key=lambda d: d["context"])
    assert got == [
        {"experiment_id": exp_id, "name": "ds", "digest": "d1", "context": "eval"},
        {"experiment_id": exp_id, "name": "ds", "digest": "d1", "context": "train"},
    ]


def test_record_logged_model_appends_to_history(root):
    import json

    store = FileTrackingStore(root)
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.record_logged_model(run_id, {"artifact_path": "a", "flavors": {}})
    store.record_logged_model(run_id, {"artifact_path": "b", "flavors": {}})
    history = json.loads(store.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["a", "b"]
