"""Each run's latest-metrics document (``runs.latest_metrics_doc``) stays in step with the
latest_metrics table through every write path (one point, a metrics-only batch, a batch
with params, points with a dataset or model ID), falls back to the table when too long, is
built for existing runs by the migration that adds it, and is what a page of runs reads;
on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import math

import conftest
import sqlalchemy as sa

from skiff.entities import Metric, Param
from skiff_stores_sql import _latest_metrics_doc
from skiff_stores_sql import schema as t
from skiff_stores_sql.engine import get_engine, normalize_url
from skiff_stores_sql.schema_version import upgrade
from skiff_stores_sql.store import SqlTrackingStore

COLUMN = t.runs.c[_latest_metrics_doc.COLUMN]


def _document(store, run_id):
    with store.engine.connect() as conn:
        text = conn.execute(sa.select(COLUMN).where(t.runs.c.run_uuid == run_id)).scalar_one()
    if text is None:
        return None
    return {key: (float(e[0]), e[1], e[2], e[3], *(e[4:] or (None, None, None)))
            for key, e in _latest_metrics_doc.decode(text).items()}


def _table(store, run_id):
    lm = t.latest_metrics
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(lm.c.key, lm.c.value, lm.c.value_kind, lm.c.timestamp, lm.c.step,
                      lm.c.dataset_name, lm.c.dataset_digest, lm.c.model_id)
            .where(lm.c.run_uuid == run_id)).all()
    return {row[0]: tuple(row[1:]) for row in found}


def _same(document, table) -> bool:
    """Equal, with -0.0 told apart from 0.0."""
    if document is None or document.keys() != table.keys():
        return False
    return all(a == b and math.copysign(1, a[0]) == math.copysign(1, b[0])
               for a, b in ((document[k], table[k]) for k in table))


def test_every_write_keeps_the_document_and_the_table_in_step(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    run_id = store.create_run(store.create_experiment("doc"), "u", 0, [], "r").info.run_id
    assert _document(store, run_id) == {} == _table(store, run_id)
    steps = [
        lambda: store.log_metric(run_id, Metric("loss", 0.5, 10, 1)),
        lambda: store.log_metric(run_id, Metric("loss", 0.9, 5, 0)),  # older: not latest
        lambda: store.log_metric(run_id, Metric("loss", 0.1, 20, 2)),
        lambda: store.log_batch(run_id, [Metric("acc", 0.25, 1, s) for s in range(5)]
                                + [Metric("loss", 0.05, 30, 3)], [], []),
        # a metrics-only batch where the merge takes one key and keeps the other's row
        lambda: store.log_batch(run_id, [Metric("loss", 9.9, 1, 0), Metric("acc", 0.3, 2, 9)],
                                [], []),
        lambda: store.log_batch(run_id, [Metric("rmse", float("nan"), 1, 0),
                                         Metric("big", 1e16, 1, 0),
                                         Metric("huge", 1.5e300, 1, 0),
                                         Metric("neg_zero", -0.0, 1, 0)],
                                [Param("alpha", "0.1")], []),
        lambda: store.log_metric(run_id, Metric("rmse", float("inf"), 2, 1)),
        lambda: store.log_metric(run_id, Metric("low", float("-inf"), 2, 1)),
        lambda: store.log_metric(run_id, Metric("ds", 3.0, 5, 0, dataset_name="train",
                                                dataset_digest="abc")),
        lambda: store.log_batch(run_id, [Metric("model", 2.5, 5, 0, model_id="m-1")], [], []),
        lambda: store.log_metric(run_id, Metric("ds", 4.0, 6, 1)),  # plain again
        lambda: store.log_metric(run_id, Metric("acc", 0.3, 2, 9)),  # equal: kept as is
    ]
    for step in steps:
        step()
        assert _same(_document(store, run_id), _table(store, run_id))
    metrics = {m.key: m for m in store.get_run(run_id).data.metric_objs}
    assert metrics["loss"].value == 0.05 and metrics["loss"].step == 3
    assert metrics["acc"].value == 0.3 and metrics["acc"].step == 9
    assert metrics["rmse"].value == math.inf
    assert metrics["low"].value == -math.inf
    assert metrics["big"].value == 1e16 and isinstance(metrics["big"].value, float)
    assert metrics["huge"].value == 1.5e300
    assert (metrics["ds"].value, metrics["ds"].dataset_name) == (4.0, None)
    assert metrics["model"].model_id == "m-1"


def test_a_refused_write_leaves_the_document_as_it_was(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    run_id = store.create_run(store.create_experiment("doc"), "u", 0, [], "r").info.run_id
    store.log_batch(run_id, [Metric("loss", 1.0, 1, 0)], [Param("alpha", "0.1")], [])
    before = _document(store, run_id)
    try:  # MLflow's "Changing param values" error: nothing of the batch is stored
        store.log_batch(run_id, [Metric("loss", 0.5, 2, 1)], [Param("alpha", "0.2")], [])
    except Exception:  # noqa: BLE001
        pass
    assert _document(store, run_id) == before
    assert _same(before, _table(store, run_id))


def test_a_page_of_runs_reads_the_documents(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    exp = store.create_experiment("doc")
    run_id = store.create_run(exp, "u", 0, [], "r").info.run_id
    store.log_metric(run_id, Metric("loss", 0.5, 10, 1))
    with store.engine.begin() as conn:  # a document that differs from the table on purpose
        _latest_metrics_doc.write(conn, run_id, {"loss": _latest_metrics_doc.entry(7.0, 0, 1, 1)})
    assert store.search_runs([exp], "")[0].data.metrics == {"loss": 7.0}
    assert store.get_run(run_id).data.metrics == {"loss": 7.0}
    assert store.search_runs([exp], "metrics.loss < 1")[0].data.metrics == {"loss": 7.0}
    # only the keys asked for (the UI's column reads)
    store.log_metric(run_id, Metric("acc", 0.9, 10, 1))
    found = store.search_runs_with_keys([exp], {"metrics": ["acc"], "params": [], "tags": []})
    assert found[0].data.metrics == {"acc": 0.9}


def test_a_document_too_long_falls_back_to_the_table(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    exp = store.create_experiment("doc")
    run_id = store.create_run(exp, "u", 0, [], "big").info.run_id
    keys = [f"{i:03d}" + "k" * 200 for i in range(_latest_metrics_doc.MAX_CHARS // 200 + 10)]
    store.log_batch(run_id, [Metric(k, 1.0, 1, 0) for k in keys[:150]], [], [])
    assert _document(store, run_id) is not None  # below the limit still
    store.log_batch(run_id, [Metric(k, 1.0, 1, 0) for k in keys[150:-5]], [], [])
    for key in keys[-5:]:  # one at a time: the one-point paths pass the limit too
        store.log_metric(run_id, Metric(key, 1.0, 1, 0))
    assert _document(store, run_id) is None
    store.log_metric(run_id, Metric("small", 2.0, 1, 0))  # stays NULL: the table holds it
    assert _document(store, run_id) is None
    expected = {k: 1.0 for k in keys} | {"small": 2.0}
    assert store.get_run(run_id).data.metrics == expected
    assert [run.data.metrics for run in store.search_runs([exp], "metrics.small = 2")] == \
        [expected]


def test_the_migration_builds_documents_of_existing_runs(db_uri):
    assert upgrade(db_uri, "0013") == "0013"
    q = "`" if db_uri.startswith("mysql") else '"'
    with get_engine(normalize_url(db_uri)).begin() as conn:
        conftest.insert_runs_r1_r2(conn)
        conn.execute(sa.text(
            f"INSERT INTO latest_metrics (run_uuid, {q}key{q}, step, {q}timestamp{q}, value, "
            "value_kind, model_id) VALUES ('r1', 'loss', 3, 30, 0.25, 0, NULL), "
            "('r1', 'acc', 1, 10, 0, 1, 'm-1')"))
    upgrade(db_uri)
    store = SqlTrackingStore(db_uri)
    assert _document(store, "r1") == {"loss": (0.25, 0, 30, 3, None, None, None),
                                      "acc": (0.0, 1, 10, 1, None, None, "m-1")}
    assert _document(store, "r2") == {}
    metrics = store.get_run("r1").data.metrics
    assert metrics["loss"] == 0.25 and math.isnan(metrics["acc"])


def test_writers_of_one_run_at_once_lose_nothing(db_uri, tmp_path):
    # each writer locks the run's row first, so every document write starts from the last
    store = SqlTrackingStore(db_uri, str(tmp_path))
    run_id = store.create_run(store.create_experiment("doc"), "u", 0, [], "r").info.run_id

    def writer(n):
        for i in range(15):
            if i % 3 == 0:  # a batch with a param: the general path
                store.log_batch(run_id, [Metric(f"b{n}", float(i), i, i),
                                         Metric("shared", float(n * 100 + i), i, i)],
                                [Param(f"p{n}-{i}", "1")], [])
            elif i % 3 == 1:
                store.log_metric(run_id, Metric(f"m{n}", float(i), i, i))
            else:  # a metrics-only batch
                store.log_batch(run_id, [Metric(f"m{n}", float(i), i, i),
                                         Metric("shared", float(n * 100 + i), i, i)], [], [])

    assert conftest.run_writers(writer) == []
    table = _table(store, run_id)
    assert _same(_document(store, run_id), table)
    assert len(table) == 4 * 2 + 1


def test_the_document_is_compact_json(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    run_id = store.create_run(store.create_experiment("doc"), "u", 0, [], "r").info.run_id
    store.log_batch(run_id, [Metric("loss", 0.1, 1, 0)], [Param("a", "b")], [])
    with store.engine.connect() as conn:
        text = conn.execute(sa.select(COLUMN).where(t.runs.c.run_uuid == run_id)).scalar_one()
    assert json.loads(text) == {"loss": ["0.1", 0, 1, 0]}
