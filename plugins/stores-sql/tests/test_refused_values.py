"""Values a database or its driver refuses (NUL characters in PostgreSQL text, integers
beyond 64 bits) are the caller's bad input: INVALID_PARAMETER_VALUE, never a 500 quoting
our SQL, and nothing of the refused call is stored."""

from __future__ import annotations

import pytest

from skiff.entities import Metric, Param, RunTag
from skiff.errors import SkiffException
from skiff_stores_sql.store import SqlTrackingStore


def _refused(call) -> str:
    with pytest.raises(SkiffException) as err:
        call()
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "SELECT" not in err.value.message and "INSERT" not in err.value.message
    return err.value.message


def test_nul_characters_on_postgresql(postgres_uri):
    store = SqlTrackingStore(postgres_uri, "file:///tmp/skiff-refused")
    exp = store.create_experiment("kept")
    run_id = store.create_run(exp, "u", 1, [], "r").info.run_id
    before = [e.experiment_id for e in store.search_experiments()]

    assert "NUL" in _refused(lambda: store.create_experiment("a\x00b"))
    _refused(lambda: store.get_experiment_by_name("a\x00b"))
    _refused(lambda: store.set_tag(run_id, RunTag("t", "a\x00b")))
    _refused(lambda: store.log_batch(run_id, [Metric("m", 1.0, 1, 0)],
                                     [Param("p", "a\x00b")], []))
    # metric points go through COPY on the raw cursor: the driver's own DataError
    _refused(lambda: store.log_batch(run_id, [Metric("m", 1.0, 1, 0, dataset_name="d" * 600)],
                                     [], []))
    _refused(lambda: store.log_metric(run_id, Metric("m", 1.0, 1, 0, model_id="m-\x00")))

    assert [e.experiment_id for e in store.search_experiments()] == before
    run = store.get_run(run_id)
    assert "t" not in run.data.tags
    assert run.data.params == {} and run.data.metrics == {}  # the batch: all or nothing


def test_integers_beyond_64_bits(sqlite_uri):
    store = SqlTrackingStore(sqlite_uri, "file:///tmp/skiff-refused")
    exp = store.create_experiment("e")
    run_id = store.create_run(exp, "u", 1, [], "r").info.run_id
    store.log_batch(run_id, [Metric("m", 1.0, 1, s) for s in range(3)], [], [])
    _refused(lambda: store.get_metric_history_bulk_interval([run_id], "m", 10, 2**70, 2**71))
    assert len(store.get_metric_history_bulk_interval([run_id], "m", 10, 0, 2)) == 3


def test_search_sizes_stay_within_what_every_database_takes(db_uri):
    # the largest filter and order_by the parser allows compile and run everywhere (SQLite
    # joins at most 64 tables); experiment lists are bounded below PostgreSQL's 65,535
    # parameters, duplicates counted once
    from skiff.search.parser import MAX_COMPARISONS, MAX_ORDER_BY
    from skiff_stores_sql._runs import MAX_SEARCH_EXPERIMENTS

    store = SqlTrackingStore(db_uri, "file:///tmp/skiff-refused")
    exp = store.create_experiment("sizes")
    run_id = store.create_run(exp, "u", 1, [], "r").info.run_id
    store.log_batch(run_id, [Metric(f"m{i}", 1.0, 1, 0) for i in range(MAX_ORDER_BY)],
                    [Param(f"p{i}", "x") for i in range(MAX_COMPARISONS)], [])
    found = store.search_runs(
        [exp], " and ".join(f"params.p{i} = 'x'" for i in range(MAX_COMPARISONS)),
        max_results=10, order_by=[f"metrics.m{i} DESC" for i in range(MAX_ORDER_BY)])
    assert [r.info.run_id for r in found] == [run_id]
    assert len(store.search_runs([exp] * 20_000, "")) == 1
    ids = [str(i) for i in range(MAX_SEARCH_EXPERIMENTS + 1)]
    assert "at most" in _refused(lambda: store.search_runs(ids, ""))
