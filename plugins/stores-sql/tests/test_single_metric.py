"""The one-point log_metric path (skiff_stores_sql._single_metric) really writes on SQLite
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
    writer = store._single_metric
    assert writer.try_write(run_id, Metric("loss", 0.5, 10, 2))
    assert writer.try_write(run_id, Metric("loss", 0.9, 20, 1))  # older step: history only
    assert writer.try_write(run_id, Metric("loss", float("nan"), 30, 3))
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [1, 2, 3]
    assert math.isnan(store.get_run(run_id).data.metrics["loss"])


def test_fast_path_declines_what_log_batch_must_answer(store):
    run_id = _run(store)
    writer = store._single_metric
    assert not writer.try_write("f" * 32, Metric("m", 1.0, 1, 0))  # no such run
    assert not writer.try_write(run_id, Metric("m", 1.0, 1, 0, dataset_name="d"))
    assert not writer.try_write(run_id, Metric("m", 10**400, 1, 0))
    store.update_run_info(run_id, RunStatus.FINISHED, 5, None)
    store.delete_run(run_id)
    assert not writer.try_write(run_id, Metric("m", 1.0, 1, 0))
    with pytest.raises(SkiffException):
        store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    assert store.get_metric_history(run_id, "m") == []
