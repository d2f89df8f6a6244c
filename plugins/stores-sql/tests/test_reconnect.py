"""A database server that drops the store's connections (a restart, a failover, an idle
timeout) costs the next call nothing: reads and writes run again on a new connection.
Pooled connections are pinged only after sitting idle (``engine.IDLE_BEFORE_PING_S``), so
both ways of finding a dead connection are tried: by the ping, and by the first statement."""

from __future__ import annotations

import conftest
import pytest

from skiff.entities import Metric
from skiff_stores_sql import engine as engine_module
from skiff_stores_sql.store import SqlTrackingStore


def _drop_connections(backend: str, database: str) -> int:
    """Cut every connection to ``database`` from the server side; how many were cut."""
    if backend == "postgres":
        admin = conftest._pg_admin()
        try:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
        finally:
            admin.close()
        return len(rows)
    admin = conftest._mysql_admin()
    try:
        cursor = admin.cursor()
        cursor.execute("SELECT id FROM information_schema.processlist WHERE db = %s",
                       (database,))
        ids = [row[0] for row in cursor.fetchall()]
        for connection_id in ids:
            cursor.execute(f"KILL {int(connection_id)}")
    finally:
        admin.close()
    return len(ids)


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
@pytest.mark.parametrize("found_by", ["first statement", "ping after idle"])
def test_calls_after_the_server_dropped_the_connections(request, tmp_path, monkeypatch,
                                                         backend, found_by):
    uri = request.getfixturevalue(f"{backend}_uri")
    store = SqlTrackingStore(uri, str(tmp_path))
    exp_id = store.create_experiment("before")
    run_id = store.create_run(exp_id, "u", 0, [], "r").info.run_id
    if found_by == "ping after idle":
        monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_S", 0.0)
    database = uri.rsplit("/", 1)[1]

    assert _drop_connections(backend, database) >= 1
    assert store.get_experiment(exp_id).name == "before"  # a read

    assert _drop_connections(backend, database) >= 1
    store.log_batch(run_id, [Metric("m", 1.0, 1, 0)], [], [])  # a write
    assert [m.value for m in store.get_metric_history(run_id, "m")] == [1.0]

    assert _drop_connections(backend, database) >= 1
    store.log_metric(run_id, Metric("m", 2.0, 2, 1))  # the one-point fast path
    assert [m.value for m in store.get_metric_history(run_id, "m")] == [1.0, 2.0]


@pytest.mark.parametrize("found_by", ["first statement", "ping after idle"])
def test_a_registry_page_after_the_server_dropped_the_connections(postgres_uri, monkeypatch,
                                                                  found_by):
    # A page's statement runs on psycopg's own cursor (``_in_lists.driver_rows``); when
    # that fails it runs again through SQLAlchemy, which finds the connection dead.
    from skiff_stores_sql._registry import SqlRegistryStore

    store = SqlRegistryStore(postgres_uri, postgres_uri)
    store.create_registered_model("m")
    store.create_model_version("m", "runs:/r/m", "r")
    assert [v.version for v in store.search_model_versions("name = 'm'")] == ["1"]
    if found_by == "ping after idle":
        monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_S", 0.0)
    assert _drop_connections("postgres", postgres_uri.rsplit("/", 1)[1]) >= 1
    assert [v.version for v in store.search_model_versions("name = 'm'")] == ["1"]
    assert [m.name for m in store.search_registered_models()] == ["m"]


@pytest.mark.parametrize("found_by", ["first statement", "ping after idle"])
def test_a_run_search_after_the_server_dropped_the_connections(postgres_uri, monkeypatch,
                                                               tmp_path, found_by):
    # A search page is streamed from psycopg's own cursor (``_streamed_rows``); when that
    # fails it runs again through SQLAlchemy, which finds the connection dead.
    store = SqlTrackingStore(postgres_uri, str(tmp_path))
    exp_id = store.create_experiment("e")
    run_id = store.create_run(exp_id, "u", 0, [], "r").info.run_id
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    if found_by == "ping after idle":
        monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_S", 0.0)
    assert _drop_connections("postgres", postgres_uri.rsplit("/", 1)[1]) >= 1
    found = store.search_runs([exp_id], "metrics.m > 0")
    assert [(r.info.run_id, r.data.metrics) for r in found] == [(run_id, {"m": 1.0})]
