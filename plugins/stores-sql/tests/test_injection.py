"""Filter strings never reach SQL as text: hostile keys and values through every filter
field and through order_by match nothing (or what they literally say), never appear in
the compiled SQL, and leave the data intact."""

from __future__ import annotations

import pytest

from skiff.entities import Dataset, DatasetInput, ExperimentTag, InputTag, Metric, Param, RunTag
from skiff.errors import SkiffException
from skiff.search.parser import parse_run_filter, parse_run_order_by

PAYLOADS = [
    "x' OR '1'='1",
    "'; DROP TABLE runs; --",
    'a" OR 1=1 --',
    "1) UNION SELECT run_uuid FROM runs --",
    "%' OR run_uuid LIKE '%",
    "\\'; DELETE FROM params; --",
]


def _q(text: str) -> str:
    """A single-quoted filter literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _k(text: str) -> str:
    """A backtick-quoted key."""
    return "`" + text.replace("`", "") + "`"


def _filters(payload: str) -> list[str]:
    v, k = _q(payload), _k(payload)
    return [
        f"metrics.{k} > 0",
        f"params.{k} = 'a'",
        f"params.p = {v}",
        f"params.p LIKE {v}",
        f"params.p ILIKE {v}",
        f"params.p != {v}",
        f"tags.{k} = 'a'",
        f"tags.t = {v}",
        f"tags.{k} IS NULL",
        f"attributes.run_name = {v}",
        f"attributes.run_name LIKE {v}",
        f"attributes.status = {v}",
        f"attributes.user_id ILIKE {v}",
        f"attributes.artifact_uri = {v}",
        f"attributes.run_id IN ({v}, 'x')",
        f"attributes.run_id NOT IN ({v})",
        f"datasets.name = {v}",
        f"datasets.digest IN ({v})",
        f"datasets.context LIKE {v}",
    ]


def _orders(payload: str) -> list[list[str]]:
    k = _k(payload)
    return [[f"metrics.{k} DESC"], [f"params.{k}"], [f"tags.{k} ASC", f"metrics.{k}"]]


@pytest.fixture(scope="module")
def target(module_db_uri):
    from skiff_stores_sql.store import SqlTrackingStore

    store = SqlTrackingStore(module_db_uri)
    exp_id = store.create_experiment("victim", tags=[ExperimentTag("team", "blue")])
    run_ids = []
    for i, value in enumerate(["a", PAYLOADS[0], PAYLOADS[5]]):
        run = store.create_run(exp_id, "u", 1000 + i, [], f"r{i}")
        store.log_batch(run.info.run_id, [Metric("m", float(i), 1, 0)], [Param("p", value)],
                        [RunTag("t", value)])
        store.log_inputs(run.info.run_id, [DatasetInput(
            Dataset("d", f"dg{i}", "local", "src"), [InputTag("mlflow.data.context", "train")])])
        run_ids.append(run.info.run_id)
    return store, exp_id, run_ids


def _search_or_refuse(store, exp_id, filter_string="", order_by=None):
    try:
        return [r.info.run_id for r in store.search_runs([exp_id], filter_string,
                                                         order_by=order_by)]
    except SkiffException as exc:  # a parse error is a fine answer; a database error is not
        assert exc.error_code == "INVALID_PARAMETER_VALUE", exc.message
        return None


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_filters_and_orders(target, payload):
    store, exp_id, run_ids = target
    for filter_string in _filters(payload):
        found = _search_or_refuse(store, exp_id, filter_string)
        if found is None:
            continue
        if "!=" in filter_string or "NOT IN" in filter_string or "IS NULL" in filter_string:
            continue  # these legitimately match the other runs
        expected_hits = {
            f"params.p = {_q(payload)}", f"tags.t = {_q(payload)}",
        }
        if filter_string in expected_hits and payload in (PAYLOADS[0], PAYLOADS[5]):
            assert len(found) == 1, filter_string
        elif "LIKE" not in filter_string:
            assert found == [], filter_string
    for order_by in _orders(payload):
        found = _search_or_refuse(store, exp_id, order_by=order_by)
        assert found is None or sorted(found) == sorted(run_ids)
    for exp_filter in (f"name = {_q(payload)}", f"tags.{_k(payload)} = {_q(payload)}",
                       f"name LIKE {_q(payload)}"):
        try:
            assert list(store.search_experiments(filter_string=exp_filter)) == []
        except SkiffException as exc:
            assert exc.error_code == "INVALID_PARAMETER_VALUE"
    # Nothing was dropped or deleted.
    assert sorted(r.info.run_id for r in store.search_runs([exp_id])) == sorted(run_ids)
    assert store.get_run(run_ids[2]).data.params == {"p": PAYLOADS[5]}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_never_appear_in_compiled_sql(target, payload):
    from skiff_stores_sql import _search

    store = target[0]
    for filter_string in _filters(payload):
        try:
            comparisons = parse_run_filter(filter_string)
        except SkiffException:
            continue
        for order_by in [None, *_orders(payload)]:
            stmt, keys = _search.compile_run_search(
                [1], ["active"], comparisons, parse_run_order_by(order_by))
            stmt, _ = _search.paged(stmt, keys, None, 10)
            sql = str(stmt.compile(dialect=store.engine.dialect))
            assert payload not in sql
            assert payload.replace("'", "''") not in sql
