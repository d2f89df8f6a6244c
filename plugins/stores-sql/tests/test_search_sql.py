"""Search compiled into SQL: results and keyset pages agree with core's Python evaluator
(the reference semantics) on every backend, including missing values, NaN and ties."""

from __future__ import annotations

import math
import random

import pytest

from skiff.entities import Metric, Param, RunTag, ViewType
from skiff.errors import SkiffException
from skiff.search.evaluate import filter_runs, sort_runs
from skiff.search.paging import encode_token
from skiff.search.parser import parse_run_filter, parse_run_order_by


@pytest.fixture(scope="module")
def populated(module_db_uri):
    from skiff_stores_sql.store import SqlTrackingStore

    store = SqlTrackingStore(module_db_uri)
    exp_id = store.create_experiment("search")
    rng = random.Random(7)
    for i in range(40):
        run = store.create_run(exp_id, rng.choice(["ann", "bob"]), 1000 + i // 3, [],
                               f"run{i:02d}")
        metrics, params, tags = [], [], []
        if rng.random() < 0.75:
            value = math.nan if rng.random() < 0.1 else rng.choice([0.1, 0.25, 0.5, 0.75, 0.9])
            metrics.append(Metric("m", value, 1, 0))
        if rng.random() < 0.8:
            params.append(Param("p", rng.choice(["a", "b", "c"])))
        if rng.random() < 0.6:
            tags.append(RunTag("t", rng.choice(["x", "y", "z"])))
        store.log_batch(run.info.run_id, metrics, params, tags)
        if i % 2:
            store.update_run_info(run.info.run_id, "FINISHED", 5000 + rng.randint(0, 3), None)
    return store, exp_id


ORDERS = [
    None,
    ["metrics.m ASC"],
    ["metrics.m DESC"],
    ["params.p", "metrics.m DESC"],
    ["tags.t DESC", "attributes.run_name"],
    ["attributes.end_time DESC"],
    ["attributes.start_time ASC"],
    ["attributes.user_id", "attributes.status DESC"],
]
FILTERS = [
    "",
    "metrics.m < 0.6",
    "metrics.m >= 0.25 and params.p = 'a'",
    "params.p != 'b'",
    "tags.t IS NULL",
    "attributes.status = 'FINISHED' and metrics.m > 0.1",
]


def _all_runs(store, exp_id):
    return list(store.search_runs([exp_id], max_results=50000))


def _paged_ids(store, exp_id, filter_string, order_by, page_size):
    ids, token = [], None
    while True:
        page = store.search_runs([exp_id], filter_string, ViewType.ACTIVE_ONLY, page_size,
                                 order_by, token)
        assert len(page) <= page_size
        ids.extend(r.info.run_id for r in page)
        token = page.token
        if token is None:
            return ids


@pytest.mark.parametrize("filter_string", FILTERS)
def test_sql_search_matches_python_reference(populated, filter_string):
    store, exp_id = populated
    everything = _all_runs(store, exp_id)
    assert len(everything) == 40
    for order_by in ORDERS:
        expected = sort_runs(filter_runs(everything, parse_run_filter(filter_string)),
                             parse_run_order_by(order_by))
        got = _paged_ids(store, exp_id, filter_string, order_by, page_size=7)
        assert got == [r.info.run_id for r in expected], (filter_string, order_by)


def test_offset_tokens_are_accepted(populated):
    store, exp_id = populated
    full = [r.info.run_id for r in store.search_runs([exp_id], max_results=50)]
    page = store.search_runs([exp_id], max_results=5, page_token=encode_token({"offset": 10}))
    assert [r.info.run_id for r in page] == full[10:15]


def test_token_from_another_query_shape_is_refused(populated):
    store, exp_id = populated
    token = store.search_runs([exp_id], max_results=3, order_by=["metrics.m"]).token
    with pytest.raises(SkiffException) as info:
        store.search_runs([exp_id], max_results=3, page_token=token)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_like_is_case_sensitive_and_ilike_is_not(populated):
    store, exp_id = populated
    assert len(store.search_runs([exp_id], "attributes.run_name LIKE 'RUN%'")) == 0
    assert len(store.search_runs([exp_id], "attributes.run_name ILIKE 'RUN%'")) == 40
    assert len(store.search_runs([exp_id], "attributes.run_name = 'RUN01'")) == 0
    assert len(store.search_runs([exp_id], "attributes.run_name LIKE 'run0_'")) == 10


def test_metric_history_pages_follow_keyset_with_duplicates(db_uri):
    from skiff_stores_sql.store import SqlTrackingStore

    store = SqlTrackingStore(db_uri)
    run_id = store.create_run("0", "u", 0, [], "h").info.run_id
    points = [Metric("m", float(i % 7), 100 + i // 4, i // 4) for i in range(300)]
    store.log_batch(run_id, points[:150], [], [])
    store.log_batch(run_id, points[150:], [], [])
    store.log_batch(run_id, points[:10], [], [])  # exact repeats are kept
    seen, token = [], None
    while True:
        page = store.get_metric_history(run_id, "m", max_results=13, page_token=token)
        seen.extend((m.step, m.timestamp, m.value) for m in page)
        token = page.token
        if token is None:
            break
    full = [(m.step, m.timestamp, m.value) for m in store.get_metric_history(run_id, "m")]
    assert seen == full and len(full) == 310
    assert [s for s, _, _ in full] == sorted(s for s, _, _ in full)


def test_bulk_interval_on_a_long_uneven_history(sqlite_uri):
    from skiff.store._sampling import sample_steps
    from skiff_stores_sql.store import SqlTrackingStore

    store = SqlTrackingStore(sqlite_uri)
    run_id = store.create_run("0", "u", 0, [], "long").info.run_id
    steps = sorted(set(range(0, 30000, 3)) | {30001, 30500})
    for start in range(0, len(steps), 1000):
        store.log_batch(run_id, [Metric("m", float(s), s, s) for s in steps[start:start + 1000]],
                        [], [])
    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=320)
    got = [m.step for m in sampled]
    assert got[0] == 0 and got[-1] == 30500 and got == sorted(got)
    assert 300 <= len(got) <= 320
    assert all(m.run_id == run_id for m in sampled)
    # A short history is sampled exactly like the core helper does.
    window = store.get_metric_history_bulk_interval([run_id], "m", 10, start_step=99, end_step=300)
    expected = sorted(sample_steps([s for s in steps if 99 <= s <= 300], 10))
    assert [m.step for m in window] == expected


def test_bulk_interval_stays_within_budget_when_points_share_steps(db_uri):
    from skiff_stores_sql.store import SqlTrackingStore

    store = SqlTrackingStore(db_uri)
    run_id = store.create_run("0", "u", 0, [], "flat").info.run_id
    store.log_batch(run_id, [Metric("m", float(i), i, 0) for i in range(1000)], [], [])
    store.log_batch(run_id, [Metric("m", -1.0, 5000, 1)], [], [])
    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=50)
    assert len(sampled) == 50
    assert (sampled[0].step, sampled[0].value) == (0, 0.0)
    assert (sampled[-1].step, sampled[-1].value) == (1, -1.0)
