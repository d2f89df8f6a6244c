"""``skiff migrate`` between Skiff SQL stores: a full copy with the registry, experiment IDs
kept, idempotent second runs, resuming after interrupts, and the command's errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from migrate_data import fill, snapshot

from skiff.entities import LifecycleStage, RunTag
from skiff_stores_sql import migrate_registry, migrate_tracking
from skiff_stores_sql.migrate import Migrator


def _stores(uri, root):
    from skiff_stores_sql._registry import SqlRegistryStore
    from skiff_stores_sql.store import SqlTrackingStore

    return SqlTrackingStore(uri, root.as_uri()), SqlRegistryStore(uri, uri)


@pytest.fixture
def source(sqlite_uri, tmp_path):
    tracking, registry = _stores(sqlite_uri, tmp_path / "src-artifacts")
    ids = fill(tracking, registry, tmp_path)
    return tracking, registry, ids


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path):
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'target.db'}"
        yield _stores(uri, tmp_path / "dst-artifacts")
        from skiff_stores_sql.engine import dispose_engine, normalize_url

        dispose_engine(normalize_url(uri))
        return
    yield _stores(request.getfixturevalue("postgres_uri"), tmp_path / "dst-artifacts")


def _migrate(source, target, **kw):
    return Migrator(source, target[0], target_registry=target[1], **kw).run()


def _source_of(tracking, registry):
    from skiff_stores_sql.migrate_sources import StoreSource

    return StoreSource(tracking, registry)


def test_migrate_copies_everything_once(source, target):
    src = _source_of(*source[:2])
    report = Migrator(src, target[0], target_registry=target[1]).run()
    assert (report.runs_copied, report.runs_skipped, report.artifact_files) == (4, 0, 2)
    assert (report.models_created, report.versions_copied) == (2, 2)
    expected = snapshot(*source[:2])
    assert snapshot(*target) == expected
    assert expected["registry"]["clf"]["versions"]["3"]["source"] == (
        "<artifacts of parent>/model")
    tracking, registry = target
    # IDs kept: the target was empty but for the Default experiment.
    assert tracking.get_experiment_by_name("project").experiment_id == source[2]["experiment_id"]
    assert tracking.get_experiment_by_name("old").experiment_id == source[2]["old_id"]
    assert tracking.get_experiment_by_name("old").lifecycle_stage == LifecycleStage.DELETED
    # Version numbers kept across the deleted version 2; the run is the copied one.
    assert sorted(mv.version for mv in registry.search_model_versions("name='clf'")) == [
        "1", "3"]
    parent = registry.get_model_version("clf", "3").run_id
    assert tracking.get_run(parent).info.run_name == "parent" and parent != source[2]["parent"]
    # Later versions continue after the source's numbers.
    assert registry.create_model_version("clf", f"runs:/{parent}/model", parent).version == "4"

    again = Migrator(src, target[0], target_registry=target[1]).run()
    assert (again.runs_copied, again.runs_skipped) == (0, 4)
    assert (again.models_created, again.versions_copied, again.versions_skipped) == (0, 0, 2)
    registry.delete_model_version("clf", "4")
    assert snapshot(*target) == expected


def test_taken_experiment_ids_fall_back(source, target, tmp_path):
    tracking, _ = target
    taken = tracking.create_experiment("someone else's")  # takes ID 1 in the target
    assert taken == source[2]["experiment_id"]
    lines = []
    report = _migrate(_source_of(*source[:2]), target, notify=lines.append)
    new_id = tracking.get_experiment_by_name("project").experiment_id
    assert new_id not in (taken, source[2]["old_id"])
    assert report.renumbered == [("project", taken, new_id)]
    assert lines == [f"Experiment 'project': ID {taken} is taken in the target; copied as "
                     f"{new_id}"]
    # 'old' had ID 2, free in the target, so it kept it; the sequence moved past both.
    assert tracking.get_experiment_by_name("old").experiment_id == source[2]["old_id"]
    assert int(tracking.create_experiment("later")) > int(new_id)


def test_sql_store_creates_experiments_under_given_ids(target):
    from skiff.errors import SkiffException

    tracking, _ = target
    assert tracking.create_experiment_with_id("40", "forty") == "40"
    assert tracking.get_experiment("40").artifact_location.endswith("/dst-artifacts/40")
    for bad, code in (("40", "RESOURCE_ALREADY_EXISTS"), ("2147483648", "INVALID_PARAMETER_VALUE"),
                      ("007", "INVALID_PARAMETER_VALUE"), ("abc", "INVALID_PARAMETER_VALUE")):
        with pytest.raises(SkiffException) as caught:
            tracking.create_experiment_with_id(bad, f"exp {bad}")
        assert caught.value.error_code == code
    assert tracking.create_experiment("next") == "41"  # allocation continues past it


class _Interrupt(Exception):
    pass


def _interrupt_on_call(monkeypatch, owner, name: str, call: int):
    """Make the ``call``-th call of ``owner.name`` raise, as an interrupt would."""
    real, calls = getattr(owner, name), []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise _Interrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)


@pytest.mark.parametrize("step", [
    (migrate_tracking.TrackingCopier, "_copy_run", 2),
    (migrate_tracking.TrackingCopier, "_finish_run", 2),
    (migrate_registry.RegistryCopier, "_align", 2),
])
def test_migrate_resumes_after_an_interrupt(source, target, monkeypatch, step):
    src = _source_of(*source[:2])
    with monkeypatch.context() as patch:
        _interrupt_on_call(patch, *step)
        with pytest.raises(_Interrupt):
            _migrate(src, target)
    report = _migrate(src, target)
    assert report.runs_copied + report.runs_skipped == 4
    if step[0] is migrate_tracking.TrackingCopier:
        assert report.runs_redone >= 1  # the half-copied run was copied again
    else:
        assert report.versions_skipped == 2  # both versions existed; one gets its stage
    assert snapshot(*target) == snapshot(*source[:2])
    again = _migrate(src, target)
    assert (again.runs_copied, again.versions_copied, again.models_created) == (0, 0, 0)


def test_interrupted_gap_filler_is_cleaned_up(source, target, monkeypatch):
    """Interrupted between creating the filler for the deleted version 2 and deleting it:
    the rerun removes the filler and still gives the next version number 3."""
    from skiff_stores_sql._registry import SqlRegistryStore

    src = _source_of(*source[:2])
    with monkeypatch.context() as patch:
        _interrupt_on_call(patch, SqlRegistryStore, "delete_model_version", 1)
        with pytest.raises(_Interrupt):
            _migrate(src, target)
    assert sorted(mv.version for mv in target[1].search_model_versions("name='clf'")) == [
        "1", "2"]
    _migrate(src, target)
    assert snapshot(*target) == snapshot(*source[:2])
    assert sorted(mv.version for mv in target[1].search_model_versions("name='clf'")) == [
        "1", "3"]


def test_existing_target_model_gets_renumbered_versions(source, target):
    tracking, registry = target
    registry.create_registered_model("clf", [RunTag("owner", "bob")])
    exp = tracking.create_experiment("elsewhere")
    run = tracking.create_run(exp, "bob", 1, [], "theirs")
    registry.create_model_version("clf", f"runs:/{run.info.run_id}/m", run.info.run_id)
    lines = []
    report = _migrate(_source_of(*source[:2]), target, notify=lines.append)
    assert report.versions_copied == 2 and report.models_created == 1  # only "empty"
    assert "Model 'clf': version 1 copied as version 2" in lines[-1]
    model = registry.get_registered_model("clf")
    assert model.tags == {"owner": "ann"} and model.description == "a classifier"
    assert model.aliases == {"champion": "3"}  # source 3 landed on 3: 2 was used up
    assert registry.get_model_version("clf", "3").tags["validated"] == "yes"
    assert _migrate(_source_of(*source[:2]), target).versions_copied == 0


def test_migrate_command(source, tmp_path, plugin_manager):
    from skiff.tracking._stores import clear_store_cache
    from skiff_stores_sql.cli import migrate

    target_uri = f"sqlite:///{tmp_path / 'cli-target.db'}"
    clear_store_cache()
    try:
        result = CliRunner().invoke(migrate, ["--from", source[0].store_uri, "--to", target_uri,
                                              "--no-artifacts"])
        assert result.exit_code == 0, result.output
        assert "Copied 4 runs" in result.output and "copied 2 versions" in result.output
        result = CliRunner().invoke(migrate, ["--from", source[0].store_uri, "--to", target_uri])
        assert "Copied 0 runs" in result.output and "skipped 4" in result.output
        assert "skipped 2 already copied" in result.output
    finally:
        clear_store_cache()


@pytest.mark.parametrize("args, message", [
    (["--from", "bogus://x", "--to", "sqlite:///t.db"], "No tracking store is installed"),
    (["--from", "sqlite:///missing.db", "--to", "sqlite:///t.db"], "No SQLite database at"),
    (["--from", "sqlite:///t.db", "--to", "sqlite:///t.db"], "name the same store"),
    (["--from", "sqlite://x/y.db", "--to", "sqlite:///t.db"], "Invalid database URI"),
])
def test_bad_uris_are_one_line(args, message, tmp_path, monkeypatch, plugin_manager):
    from skiff_stores_sql.cli import migrate

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(migrate, args)
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "t.db").exists() and not (tmp_path / "missing.db").exists()


def test_help_documents_sources_and_resuming():
    from skiff_stores_sql.cli import migrate

    text = " ".join(CliRunner().invoke(migrate, ["--help"]).output.split())
    for words in ("--from URI", "--to URI", "./mlruns", "http://", "MLflow's schema",
                  "never written", "registry", "Safe to run again", "interrupted",
                  "--source-artifacts-destination"):
        assert words in text, words


@pytest.mark.parametrize("side", ["--from", "--to"])
def test_a_server_that_is_down_is_reported_at_once(side, tmp_path, monkeypatch, plugin_manager):
    import time

    from skiff.testing.servers import free_port
    from skiff_stores_sql.cli import migrate

    monkeypatch.chdir(tmp_path)
    from skiff_stores_sql.store import SqlTrackingStore

    other = f"sqlite:///{tmp_path / 's.db'}"
    SqlTrackingStore(other).search_experiments()  # an existing Skiff database, the other side
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    args = [side, down, "--to" if side == "--from" else "--from", other]
    start = time.monotonic()
    result = CliRunner().invoke(migrate, args)
    assert time.monotonic() - start < 10  # not the REST client's minutes of retries
    assert result.exit_code == 1
    assert f"Cannot reach the tracking server at {down}" in result.output
    assert len(result.output.strip().splitlines()) == 1
