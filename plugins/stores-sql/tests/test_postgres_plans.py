"""PostgreSQL plans search pages for their own values: psycopg prepares a statement after
five runs and the server may then plan it once for any parameters, which for a page token
meant walking an index from its start (pages 2-10 of a 100,000-run search went from
~110 ms to 400-600 ms). Search page statements must never become prepared statements;
the small lookups around them still are."""

from __future__ import annotations

from skiff.entities import Metric, Param
from skiff_stores_sql._registry import SqlRegistryStore
from skiff_stores_sql.store import SqlTrackingStore


def _prepared_statements(store) -> list[str]:
    # One thread and no concurrency: the pool hands back the connection the searches used.
    with store.engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql(
            "SELECT statement FROM pg_prepared_statements")]


def test_search_pages_are_planned_for_their_own_values(postgres_uri, tmp_path):
    store = SqlTrackingStore(postgres_uri, str(tmp_path))
    exp_id = store.create_experiment("plans")
    for i in range(12):
        run_id = store.create_run(exp_id, "u", i, [], f"r{i}").info.run_id
        store.log_batch(run_id, [Metric("rmse", i / 12, 0, 0)], [Param("alpha", "0.1")], [])
    for _ in range(12):  # past psycopg's prepare threshold (5) and PostgreSQL's (5 more)
        token, seen = None, 0
        while True:
            page = store.search_runs([exp_id], "metrics.rmse < 2 and params.alpha = '0.1'",
                                     1, 5, ["metrics.rmse"], token)
            seen += len(page)
            token = page.token
            if not token:
                break
        assert seen == 12
    prepared = _prepared_statements(store)
    assert prepared, "psycopg prepared nothing: the lookups around a page should be"
    assert not [s for s in prepared if "ORDER BY" in s and "LIMIT" in s], prepared


def test_registry_pages_are_planned_for_their_own_values(postgres_uri):
    store = SqlRegistryStore(postgres_uri)
    for i in range(6):
        store.create_registered_model(f"model-{i}")
    for _ in range(12):
        token = None
        while True:
            page = store.search_registered_models("name LIKE 'model-%'", 2, None, token)
            token = page.token
            if not token:
                break
    assert not [s for s in _prepared_statements(store) if "LIMIT" in s]


def test_session_prices_index_walks_and_parallel_workers(postgres_uri, tmp_path):
    store = SqlTrackingStore(postgres_uri, str(tmp_path))
    with store.engine.connect() as conn:
        settings = dict(conn.exec_driver_sql(
            "SELECT name, setting FROM pg_settings "
            "WHERE name IN ('random_page_cost', 'parallel_setup_cost')").all())
    assert float(settings["random_page_cost"]) <= 1.1
    assert float(settings["parallel_setup_cost"]) >= 10000


def test_key_list_lookups_are_prepared_on_their_first_run(postgres_uri):
    """A page's lookups by a list of keys plan the same for any keys: prepared at once, a
    connection plans them five times (PostgreSQL's custom plans) rather than ten."""
    store = SqlRegistryStore(postgres_uri)
    store.create_registered_model("m", tags=[])
    store.search_registered_models()
    lookups = [s for s in _prepared_statements(store) if "= ANY(" in s]
    assert lookups and not [s for s in lookups if "LIMIT" in s], lookups
