"""Skiff's REST store and proxied artifact repository against a real MLflow 3.17.2 tracking
server and against a real ``skiff server``, both started by the tests: the same checks pass
on both, which is the wire compatibility both ways."""

from __future__ import annotations

import math
import uuid

import pytest

from skiff.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LoggedModelParameter,
    Metric,
    ModelOutput,
    Param,
    RunTag,
    ViewType,
)
from skiff.errors import RestException


@pytest.fixture(params=["skiff", "mlflow"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def store(server):
    from skiff.store.rest import RestStore

    return RestStore(server.url)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_experiments(store):
    name = _name("exp")
    exp_id = store.create_experiment(name, tags=[ExperimentTag("team", "skiff")])
    exp = store.get_experiment(exp_id)
    assert exp.name == name and exp.tags == {"team": "skiff"}
    assert exp.artifact_location.startswith("mlflow-artifacts:/")
    assert store.get_experiment_by_name(name).experiment_id == exp_id
    assert store.get_experiment_by_name(_name("missing")) is None
    store.rename_experiment(exp_id, name + "-renamed")
    store.set_experiment_tag(exp_id, ExperimentTag("k", "v"))
    store.delete_experiment_tag(exp_id, "k")
    assert store.get_experiment(exp_id).tags == {"team": "skiff"}
    store.delete_experiment(exp_id)
    deleted = store.search_experiments(view_type=ViewType.DELETED_ONLY, max_results=1000)
    assert exp_id in [e.experiment_id for e in deleted]
    store.restore_experiment(exp_id)
    page = store.search_experiments(max_results=1000, filter_string=f"name = '{name}-renamed'")
    assert [e.experiment_id for e in page] == [exp_id]
    with pytest.raises(RestException) as err:
        store.create_experiment(name + "-renamed")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_runs_metrics_search_and_paging(store):
    exp_id = store.create_experiment(_name("runs"))
    run_ids = []
    for i in range(5):
        run = store.create_run(exp_id, "tester", 1000 + i, [RunTag("i", str(i))], f"r{i}")
        run_ids.append(run.info.run_id)
        store.log_batch(run.info.run_id,
                        [Metric("loss", 1.0 / (i + 1), 5, s) for s in range(3)],
                        [Param("lr", str(i))], [RunTag("even", str(i % 2 == 0))])
    rid = run_ids[0]
    store.log_metric(rid, Metric("nan", math.nan, 7, 0))
    store.log_param(rid, Param("solo", "x"))
    store.set_tag(rid, RunTag("gone", "soon"))
    store.delete_tag(rid, "gone")
    run = store.get_run(rid)
    assert run.info.run_name == "r0" and run.info.user_id == "tester"
    assert run.data.params == {"lr": "0", "solo": "x"}
    assert math.isnan(run.data.metrics["nan"])
    assert "gone" not in run.data.tags
    history = store.get_metric_history(rid, "loss")
    assert [m.step for m in history] == [0, 1, 2]
    paged = store.get_metric_history(rid, "loss", max_results=2)
    assert len(paged) == 2 and paged.token
    with pytest.raises(RestException) as err:
        store.log_param(rid, Param("lr", "changed"))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"

    found = store.search_runs([exp_id], "tags.even = 'True'", ViewType.ACTIVE_ONLY, 100,
                              ["params.lr ASC"])
    assert [r.data.params["lr"] for r in found] == ["0", "2", "4"]
    first = store.search_runs([exp_id], "", ViewType.ACTIVE_ONLY, 2, ["attributes.run_name"])
    second = store.search_runs([exp_id], "", ViewType.ACTIVE_ONLY, 2, ["attributes.run_name"],
                               first.token)
    assert [r.info.run_name for r in first + second] == ["r0", "r1", "r2", "r3"]

    sampled = store.get_metric_history_bulk_interval(run_ids[:2], "loss", 10)
    assert {m.run_id for m in sampled} == set(run_ids[:2])

    info = store.update_run_info(rid, "FINISHED", 99999, "renamed")
    assert info.status == "FINISHED" and info.run_name == "renamed"
    store.delete_run(run_ids[1])
    assert len(store.search_runs([exp_id], max_results=100)) == 4
    store.restore_run(run_ids[1])
    with pytest.raises(RestException) as err:
        store.get_run("f" * 32)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_inputs_logged_models_and_outputs(store):
    exp_id = store.create_experiment(_name("models"))
    run = store.create_run(exp_id, "tester", 1, [], "with-model")
    rid = run.info.run_id
    dataset = Dataset("train", "abc123", "local", '{"uri": "/tmp/x.csv"}')
    store.log_inputs(rid, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])
    assert store.get_run(rid).inputs.dataset_inputs[0].dataset.name == "train"

    model = store.create_logged_model(exp_id, "m", rid, [RunTag("t", "1")],
                                      [LoggedModelParameter("alpha", "0.1")], "sklearn")
    assert model.model_id.startswith("m-") and model.status == "LOGGED_MODEL_PENDING"
    ready = store.finalize_logged_model(model.model_id, "LOGGED_MODEL_READY")
    assert ready.status == "LOGGED_MODEL_READY"
    store.set_logged_model_tags(model.model_id, [RunTag("u", "2")])
    store.delete_logged_model_tag(model.model_id, "t")
    store.log_logged_model_params(model.model_id, [LoggedModelParameter("beta", "2")])
    got = store.get_logged_model(model.model_id)
    assert got.tags.get("u") == "2" and "t" not in got.tags
    assert got.params == {"alpha": "0.1", "beta": "2"}
    found = store.search_logged_models([exp_id])
    assert [m.model_id for m in found] == [model.model_id]
    store.log_outputs(rid, [ModelOutput(model.model_id, 0)])
    assert [o.model_id for o in store.get_run(rid).outputs.model_outputs] == [model.model_id]
    store.delete_logged_model(model.model_id)


def test_artifacts_through_the_proxy(store, server, tmp_path):
    from skiff.artifacts.resolve import get_artifact_repository

    exp_id = store.create_experiment(_name("artifacts"))
    run = store.create_run(exp_id, "tester", 1, [], "arts")
    uri = run.info.artifact_uri
    assert uri.startswith("mlflow-artifacts:/")
    repo = get_artifact_repository(uri, tracking_uri=server.url)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(b"\x00" * 300_000)
    repo.log_artifacts(str(src))
    repo.write_stream("streamed/c.txt", iter([b"one ", b"two"]))
    listing = sorted(f.path for f in repo.list_artifacts())
    assert listing == ["a.txt", "streamed", "sub"]
    assert [(f.path, f.file_size) for f in repo.list_artifacts("sub")] == [("sub/b.bin", 300000)]
    dest = tmp_path / "dest"
    dest.mkdir()
    local = repo.download_artifacts("", str(dest))
    assert (dest / "a.txt").read_text() == "alpha"
    assert (dest / "sub" / "b.bin").stat().st_size == 300_000
    assert b"".join(repo.open_read("streamed/c.txt")) == b"one two"
    repo.delete_artifacts("sub")
    assert sorted(f.path for f in repo.list_artifacts()) == ["a.txt", "streamed"]
    assert local
