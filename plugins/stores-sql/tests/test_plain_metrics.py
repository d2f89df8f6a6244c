"""The one-point log_metric path (skiff_stores_sql._plain_metrics) really writes on SQLite
and PostgreSQL, agrees with log_batch, and declines what it must leave to log_batch."""

from __future__ import annotations

import math

import pytest

from skiff.entities import Metric, RunStatus
from skiff.errors import SkiffException
from skiff_stores_sql.store import SqlTrackingStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request):
    uri = request.getfixturevalue(f"{request.param}_uri")
    return SqlTrackingStore(uri, "file:///tmp/skiff-single-metric")


def _run(store):
    exp = store.create_experiment("single")
    return store.create_run(exp, "u", 1, [], "r").info.run_id


def test_fast_path_writes_and_keeps_latest(store):
    run_id = _run(store)
    writer = store._plain_metrics
    assert writer.try_write(run_id, Metric("loss", 0.5, 10, 2))
    assert writer.try_write(run_id, Metric("loss", 0.9, 20, 1))  # older step: history only
    assert writer.try_write(run_id, Metric("loss", float("nan"), 30, 3))
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [1, 2, 3]
    assert math.isnan(store.get_run(run_id).data.metrics["loss"])


def test_fast_path_declines_what_log_batch_must_answer(store):
    run_id = _run(store)
    writer = store._plain_metrics
    assert not writer.try_write("f" * 32, Metric("m", 1.0, 1, 0))  # no such run
    assert not writer.try_write(run_id, Metric("m", 1.0, 1, 0, dataset_name="d"))
    assert not writer.try_write(run_id, Metric("m", 10**400, 1, 0))
    store.update_run_info(run_id, RunStatus.FINISHED, 5, None)
    store.delete_run(run_id)
    assert not writer.try_write(run_id, Metric("m", 1.0, 1, 0))
    with pytest.raises(SkiffException):
        store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    assert store.get_metric_history(run_id, "m") == []


@pytest.fixture
def pg_store(postgres_uri):
    return SqlTrackingStore(postgres_uri, "file:///tmp/skiff-plain-metrics")


def test_postgres_batch_path_writes_history_and_latest(pg_store):
    run_id = _run(pg_store)
    writer = pg_store._plain_metrics
    batch = [Metric("loss", 0.5, 10, 2), Metric("loss", 0.9, 20, 1),
             Metric("loss", 0.4, 10, 2),  # same step and time, lower value: not the latest
             Metric("acc, top 1", float("inf"), 5, 0), Metric("a/b c:d", float("nan"), 5, 7)]
    assert writer.try_write_batch(run_id, batch)
    history = pg_store.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.9), (2, 0.5), (2, 0.4)]
    latest = pg_store.get_run(run_id).data.metrics
    assert latest["loss"] == 0.5
    assert latest["acc, top 1"] == float("inf")
    assert math.isnan(latest["a/b c:d"])
    # A later batch with an older step changes the history, not the latest value.
    assert writer.try_write_batch(run_id, [Metric("loss", 7.0, 30, 0)])
    assert pg_store.get_run(run_id).data.metrics["loss"] == 0.5
    assert len(pg_store.get_metric_history(run_id, "loss")) == 4


def test_postgres_batch_path_declines_what_log_batch_must_answer(pg_store):
    run_id = _run(pg_store)
    writer = pg_store._plain_metrics
    plain = [Metric("m", 1.0, 1, 0)]
    assert not writer.try_write_batch("f" * 32, plain)  # no such run
    assert not writer.try_write_batch(run_id, [*plain, Metric("m", 2.0, 1, 1, model_id="m-1")])
    assert not writer.try_write_batch(run_id, [Metric("m", 10**400, 1, 0)])
    assert not writer.try_write_batch(run_id, [Metric("m", 1.0, 1, 2**63)])  # out of bigint
    assert pg_store.get_metric_history(run_id, "m") == []
    pg_store.delete_run(run_id)
    assert not writer.try_write_batch(run_id, plain)
    with pytest.raises(SkiffException, match="must be in the 'active' state"):
        pg_store.log_batch(run_id, plain, [], [])
    assert pg_store.get_metric_history(run_id, "m") == []


class _ReplyLost:
    """A driver connection whose statements run (and commit), after which the connection
    dies before the reply is read: what a network drop right after COMMIT looks like."""

    def __init__(self, connection):
        self._connection = connection

    def __getattr__(self, name):
        return getattr(self._connection, name)

    def cursor(self):
        connection, cursor = self._connection, self._connection.cursor()

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                cursor.close()

            def execute(self, statement, params=None):
                import psycopg

                cursor.execute(statement, params)
                connection.close()
                raise psycopg.OperationalError("server closed the connection unexpectedly")

        return Cursor()


@pytest.mark.parametrize("batch", [False, True])
def test_postgres_write_with_a_lost_reply_is_reported_not_repeated(pg_store, batch):
    run_id = _run(pg_store)
    writer = pg_store._plain_metrics
    real = writer._connection()
    writer._local.connection = _ReplyLost(real)
    points = [Metric("loss", 0.5, 10, step) for step in range(3 if batch else 1)]
    with pytest.raises(SkiffException) as caught:
        if batch:
            pg_store.log_batch(run_id, points, [], [])
        else:
            pg_store.log_metric(run_id, points[0])
    assert caught.value.error_code == "TEMPORARILY_UNAVAILABLE"
    assert "may or may not have been stored" in caught.value.message
    # Stored once (the statement committed), not again by the general path.
    assert len(pg_store.get_metric_history(run_id, "loss")) == len(points)
    pg_store.log_metric(run_id, Metric("loss", 0.1, 11, 9))  # a new connection takes over
    assert len(pg_store.get_metric_history(run_id, "loss")) == len(points) + 1


def test_postgres_writer_pings_a_connection_idle_for_a_while(pg_store, monkeypatch):
    from skiff_stores_sql import _plain_metrics

    run_id = _run(pg_store)
    writer = pg_store._plain_metrics
    pg_store.log_metric(run_id, Metric("loss", 0.5, 10, 0))
    first = writer._local.connection
    first.close()  # the server went away while the connection sat idle
    monkeypatch.setattr(_plain_metrics, "IDLE_BEFORE_PING_S", 0.0)
    pg_store.log_metric(run_id, Metric("loss", 0.4, 11, 1))  # pinged, replaced, written once
    assert writer._local.connection is not first
    assert [m.step for m in pg_store.get_metric_history(run_id, "loss")] == [0, 1]


def test_postgres_writer_replaces_a_connection_known_closed(pg_store):
    run_id = _run(pg_store)
    writer = pg_store._plain_metrics
    pg_store.log_metric(run_id, Metric("loss", 0.5, 10, 0))
    writer._local.connection.close()  # closed on our side: nothing can be sent on it
    pg_store.log_metric(run_id, Metric("loss", 0.4, 11, 1))  # no error, written once
    assert [m.step for m in pg_store.get_metric_history(run_id, "loss")] == [0, 1]
