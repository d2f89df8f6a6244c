"""``skiff migrate``: a full copy, idempotent second runs, and resuming after an interrupt."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from skiff.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff_stores_sql.migrate import COMPLETE_TAG, SOURCE_TAG, Migrator


def _store(uri, root):
    from skiff_stores_sql.store import SqlTrackingStore

    return SqlTrackingStore(uri, root.as_uri())


def _fill(store, tmp_path):
    exp = store.create_experiment("project", tags=[ExperimentTag("team", "ml")])
    parent = store.create_run(exp, "ann", 1000, [], "parent")
    child = store.create_run(exp, "ann", 1001, [RunTag("mlflow.parentRunId",
                                                       parent.info.run_id)], "child")
    gone = store.create_run(exp, "bob", 1002, [], "gone")
    for run, n in ((parent, 300), (child, 5), (gone, 2)):
        run_id = run.info.run_id
        store.log_batch(run_id, [Metric("loss", 1.0 / (s + 1), 10 + s, s) for s in range(n)],
                        [Param("lr", "0.1"), Param("depth", "3")], [RunTag("kind", "x")])
    store.log_metric(parent.info.run_id, Metric("loss", 5.0, 10, 0))  # a repeated step
    store.log_inputs(child.info.run_id, [DatasetInput(
        Dataset("train", "d1", "local", "src"), [InputTag("mlflow.data.context", "training")])])
    store.update_run_info(parent.info.run_id, RunStatus.FINISHED, 9000, None)
    store.delete_run(gone.info.run_id)
    artifact_dir = tmp_path / "upload"
    artifact_dir.mkdir()
    (artifact_dir / "model.txt").write_text("weights")
    from skiff.artifacts.resolve import get_artifact_repository

    get_artifact_repository(parent.info.artifact_uri).log_artifacts(str(artifact_dir))
    old = store.create_experiment("old")
    store.create_run(old, "ann", 5, [], "ancient")
    store.delete_experiment(old)
    return exp


def _snapshot(store):
    """Everything migrate promises to carry, keyed by names (IDs differ between stores)."""
    out = {}
    for exp in store.search_experiments(ViewType.ALL):
        runs = {}
        for run in store.search_runs([exp.experiment_id], "", ViewType.ALL, 1000):
            tags = {k: v for k, v in run.data.tags.items() if k not in (SOURCE_TAG, COMPLETE_TAG)}
            if "mlflow.parentRunId" in tags:
                tags["mlflow.parentRunId"] = store.get_run(tags["mlflow.parentRunId"]).info.run_name
            history = {k: [(m.step, m.timestamp, m.value)
                           for m in store.get_metric_history(run.info.run_id, k)]
                       for k in run.data.metrics}
            runs[run.info.run_name] = (
                run.info.status, run.info.end_time, run.info.start_time, run.info.user_id,
                run.info.lifecycle_stage, tags, run.data.params, history,
                sorted((d.dataset.name, d.dataset.digest) for d in run.inputs.dataset_inputs),
            )
        out[exp.name] = (exp.lifecycle_stage, exp.tags, runs)
    return out


@pytest.fixture
def source(sqlite_uri, tmp_path):
    store = _store(sqlite_uri, tmp_path / "src-artifacts")
    _fill(store, tmp_path)
    return store


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path):
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'target.db'}"
        yield _store(uri, tmp_path / "dst-artifacts")
        from skiff_stores_sql.engine import dispose_engine, normalize_url

        dispose_engine(normalize_url(uri))
        return
    yield _store(request.getfixturevalue("postgres_uri"), tmp_path / "dst-artifacts")


def test_migrate_copies_everything_once(source, target):
    report = Migrator(source, target).run()
    assert report.runs_copied == 4 and report.runs_skipped == 0
    assert report.artifact_files == 1
    assert _snapshot(target) == _snapshot(source)
    parent = target.search_runs(
        [target.get_experiment_by_name("project").experiment_id], "attributes.run_name = "
        "'parent'")[0]
    from skiff.artifacts.resolve import get_artifact_repository

    files = [f.path for f in get_artifact_repository(parent.info.artifact_uri).list_artifacts()]
    assert files == ["model.txt"]
    assert target.get_experiment_by_name("old").lifecycle_stage == LifecycleStage.DELETED

    again = Migrator(source, target).run()
    assert again.runs_copied == 0 and again.runs_skipped == 4
    assert _snapshot(target) == _snapshot(source)


class _Interrupt(Exception):
    pass


class _FlakyTarget:
    """Passes calls through to a store, failing the n-th log_batch (an interrupt)."""

    def __init__(self, store, fail_at: int):
        self._store, self._calls, self._fail_at = store, 0, fail_at

    def log_batch(self, *args, **kwargs):
        self._calls += 1
        if self._calls == self._fail_at:
            raise _Interrupt
        return self._store.log_batch(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_migrate_resumes_after_an_interrupt(source, target):
    with pytest.raises(_Interrupt):
        Migrator(source, _FlakyTarget(target, fail_at=4)).run()
    report = Migrator(source, target).run()
    assert report.runs_redone >= 1
    assert _snapshot(target) == _snapshot(source)


def test_migrate_command(source, tmp_path, plugin_manager):
    from skiff.tracking._stores import clear_store_cache
    from skiff_stores_sql.cli import migrate

    target_uri = f"sqlite:///{tmp_path / 'cli-target.db'}"
    clear_store_cache()
    try:
        result = CliRunner().invoke(migrate, ["--from", source.store_uri, "--to", target_uri,
                                              "--no-artifacts"])
        assert result.exit_code == 0, result.output
        assert "Copied 4 runs" in result.output
        result = CliRunner().invoke(migrate, ["--from", source.store_uri, "--to", target_uri])
        assert "Copied 0 runs" in result.output and "skipped 4" in result.output
    finally:
        clear_store_cache()
