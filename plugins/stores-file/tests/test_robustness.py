"""Corrupt files are reported and skipped; concurrent writers lose nothing."""

from __future__ import annotations

import logging
import multiprocessing
import os

import pytest

from skiff.entities import Metric, Param, RunTag, ViewType
from skiff.errors import SkiffException
from skiff_stores_file.store import FileTrackingStore


def _corrupt(path: str, text: str = "{{{ not: yaml: [") -> None:
    with open(path, "w") as f:
        f.write(text)


def test_corrupt_run_meta_is_skipped(tmp_path, caplog):
    store = FileTrackingStore(str(tmp_path))
    exp_id = store.create_experiment("e")
    good = store.create_run(exp_id, "u", 1, [], "good").info.run_id
    bad = store.create_run(exp_id, "u", 2, [], "bad").info.run_id
    wrong = store.create_run(exp_id, "u", 3, [], "wrong").info.run_id
    _corrupt(os.path.join(str(tmp_path), exp_id, bad, "meta.yaml"))
    _corrupt(os.path.join(str(tmp_path), exp_id, wrong, "meta.yaml"), "- a list\n- not a map\n")
    os.makedirs(os.path.join(str(tmp_path), exp_id, "stray-folder"))  # not a run at all
    with caplog.at_level(logging.WARNING, logger="skiff_stores_file"):
        found = store.search_runs([exp_id], run_view_type=ViewType.ALL)
    assert [r.info.run_id for r in found] == [good]
    assert bad in caplog.text and wrong in caplog.text
    assert "stray-folder" not in caplog.text
    with pytest.raises(SkiffException) as info:
        store.get_run(bad)
    assert info.value.error_code == "INVALID_STATE"
    assert store._get_deleted_runs() == []


def test_corrupt_experiment_meta_is_skipped(tmp_path, caplog):
    store = FileTrackingStore(str(tmp_path))
    good = store.create_experiment("good")
    bad = store.create_experiment("bad")
    _corrupt(os.path.join(str(tmp_path), bad, "meta.yaml"))
    with caplog.at_level(logging.WARNING, logger="skiff_stores_file"):
        names = {e.name for e in store.search_experiments(view_type=ViewType.ALL)}
        assert store.get_experiment_by_name("good").experiment_id == good
        assert store.get_experiment_by_name("bad") is None
    assert names == {"Default", "good"}
    assert bad in caplog.text
    store.create_experiment("another")  # the listing still works for writes


def test_corrupt_metric_line_fails_loudly_for_that_run_only(tmp_path):
    store = FileTrackingStore(str(tmp_path))
    exp_id = store.create_experiment("e")
    run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    with open(os.path.join(str(tmp_path), exp_id, run_id, "metrics", "m"), "a") as f:
        f.write("garbage\n")
    with pytest.raises(SkiffException, match="malformed"):
        store.get_metric_history(run_id, "m")


def test_other_process_changes_are_seen(tmp_path):
    """The stat cache notices appends and replacements made by another store object."""
    root = str(tmp_path)
    first, second = FileTrackingStore(root), FileTrackingStore(root)
    exp_id = first.create_experiment("e")
    run_id = first.create_run(exp_id, "u", 1, [], "r").info.run_id
    first.log_metric(run_id, Metric("m", 1.0, 1, 0))
    assert second.get_run(run_id).data.metrics == {"m": 1.0}
    first.log_metric(run_id, Metric("m", 2.0, 2, 1))
    first.set_tag(run_id, RunTag("t", "a"))
    assert second.get_run(run_id).data.metrics == {"m": 2.0}
    first.set_tag(run_id, RunTag("t", "b"))
    first.delete_run(run_id)
    run = second.get_run(run_id)
    assert run.data.tags["t"] == "b" and run.info.lifecycle_stage == "deleted"
    first.restore_run(run_id)
    first.delete_experiment(exp_id)
    assert second.get_run(run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(SkiffException):
        second.log_metric(run_id, Metric("m", 3.0, 3, 2))


def _log_from_process(root, run_id, worker, count):
    store = FileTrackingStore(root)
    for i in range(count):
        store.log_batch(
            run_id,
            [Metric("shared", float(i), i, i), Metric(f"own{worker}", float(i), i, i)],
            [Param(f"p{worker}-{i}", str(i)), Param("same", "v")],
            [RunTag(f"t{worker}", str(i))],
        )
        if i % 10 == 0:
            store.update_run_info(run_id, "RUNNING", None, None)


def test_two_processes_logging_to_one_run_lose_nothing(tmp_path):
    root = str(tmp_path)
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("e")
    run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
    count = 150
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_log_from_process, args=(root, run_id, w, count))
               for w in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    shared = store.get_metric_history(run_id, "shared")
    assert len(shared) == 2 * count
    assert sorted(m.step for m in shared) == sorted(list(range(count)) * 2)
    for w in range(2):
        assert [m.value for m in store.get_metric_history(run_id, f"own{w}")] == \
            [float(i) for i in range(count)]
    run = store.get_run(run_id)
    assert len(run.data.params) == 2 * count + 1
    assert run.data.tags["t0"] == run.data.tags["t1"] == str(count - 1)
    assert run.info.status == "RUNNING" and run.info.run_name == "r"
    leftovers = [n for _, _, files in os.walk(root) for n in files if n.endswith("-tmp")]
    assert leftovers == []


def test_concurrent_param_conflict_keeps_one_value(tmp_path):
    root = str(tmp_path)
    store = FileTrackingStore(root)
    exp_id = store.create_experiment("e")
    run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
    other = FileTrackingStore(root)
    store.log_param(run_id, Param("k", "first"))
    with pytest.raises(SkiffException) as info:
        other.log_param(run_id, Param("k", "second"))
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert store.get_run(run_id).data.params == {"k": "first"}


def test_concurrent_creates_of_one_experiment_name_make_one(tmp_path):
    # the name check and the write that takes the name are one step: 16 threads (separate
    # stores, as separate server workers would be) racing for one name make one experiment
    import threading

    results = []
    start = threading.Barrier(16)

    def create(i):
        store = FileTrackingStore(str(tmp_path))
        start.wait()
        try:
            results.append(store.create_experiment("same-name"))
        except SkiffException as exc:
            results.append(exc.error_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("RESOURCE_ALREADY_EXISTS") == 15
    names = [e.name for e in FileTrackingStore(str(tmp_path)).search_experiments()]
    assert names.count("same-name") == 1


def test_concurrent_registry_names(tmp_path):
    # racing creates of one model name: one wins and keeps its own tags; racing renames to
    # one name: one wins, the others are RESOURCE_ALREADY_EXISTS / RESOURCE_DOES_NOT_EXIST
    import threading

    from skiff_stores_file._registry import FileRegistryStore

    root = str(tmp_path / "reg")

    def race(n, action):
        results, start = [], threading.Barrier(n)

        def run(i):
            store = FileRegistryStore(root)
            start.wait()
            try:
                results.append(("ok", action(store, i)))
            except SkiffException as exc:
                results.append((exc.error_code, i))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    created = race(12, lambda s, i: s.create_registered_model("m", [RunTag("by", str(i))]) and i)
    winners = [i for code, i in created if code == "ok"]
    assert len(winners) == 1
    assert {code for code, _ in created} == {"ok", "RESOURCE_ALREADY_EXISTS"}
    assert FileRegistryStore(root).get_registered_model("m").tags == {"by": str(winners[0])}

    store = FileRegistryStore(root)
    store.create_registered_model("a")
    store.create_registered_model("b")
    renamed = race(8, lambda s, i: s.rename_registered_model("ab"[i % 2], "target").name)
    assert [code for code, _ in renamed].count("ok") == 1
    assert {code for code, _ in renamed} <= {"ok", "RESOURCE_ALREADY_EXISTS",
                                             "RESOURCE_DOES_NOT_EXIST"}
    names = sorted(m.name for m in store.search_registered_models())
    assert names in (["a", "m", "target"], ["b", "m", "target"])
