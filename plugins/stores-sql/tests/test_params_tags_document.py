"""Each run's params-and-tags document (``runs.params_tags``) stays in step with the params
and tags tables through every write, falls back to the tables when too long, and is built
for existing runs by the migration that adds it; on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json

import conftest
import sqlalchemy as sa

from skiff.entities import Param, RunTag
from skiff_stores_sql import _params_tags
from skiff_stores_sql import schema as t
from skiff_stores_sql.engine import get_engine, normalize_url
from skiff_stores_sql.schema_version import upgrade
from skiff_stores_sql.store import SqlTrackingStore


def _document(store, run_id):
    with store.engine.connect() as conn:
        text = conn.execute(sa.select(t.runs.c.params_tags)
                            .where(t.runs.c.run_uuid == run_id)).scalar_one()
    return None if text is None else json.loads(text)


def _tables(store, run_id):
    with store.engine.connect() as conn:
        return {
            name: sorted([list(row) for row in conn.execute(
                sa.select(table.c.key, table.c.value).where(table.c.run_uuid == run_id))])
            for name, table in (("params", t.params), ("tags", t.tags))
        }


def test_every_write_keeps_the_document_and_the_tables_in_step(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    exp = store.create_experiment("doc")
    run_id = store.create_run(exp, "u", 0, [RunTag("team", "core")], "first").info.run_id
    steps = [
        lambda: store.log_batch(run_id, [], [Param("alpha", "0.1"), Param("beta", "b")],
                                [RunTag("stage", "dev")]),
        lambda: store.log_param(run_id, Param("alpha", "0.1")),  # the same value again
        lambda: store.set_tag(run_id, RunTag("stage", "prod")),  # overwritten
        lambda: store.set_tag(run_id, RunTag("ünïcode", "välue \"quoted\"")),
        lambda: store.delete_tag(run_id, "team"),
        lambda: store.update_run_info(run_id, "FINISHED", 5, "renamed"),
        lambda: store.log_batch(run_id, [], [], [RunTag("mlflow.runName", "again")]),
    ]
    for step in steps:
        step()
        assert _document(store, run_id) == _tables(store, run_id)
    run = store.get_run(run_id)
    assert run.data.params == {"alpha": "0.1", "beta": "b"}
    assert run.data.tags == {"stage": "prod", "ünïcode": "välue \"quoted\"",
                             "mlflow.runName": "again"}
    assert run.info.run_name == "again"


def test_a_refused_write_leaves_the_document_as_it_was(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    run_id = store.create_run(store.create_experiment("doc"), "u", 0, [], "r").info.run_id
    store.log_param(run_id, Param("alpha", "0.1"))
    before = _document(store, run_id)
    try:
        store.log_batch(run_id, [], [Param("alpha", "0.2")], [RunTag("new", "tag")])
    except Exception:  # noqa: BLE001 - MLflow's "Changing param values" error
        pass
    assert _document(store, run_id) == before == _tables(store, run_id)


def test_a_document_too_long_falls_back_to_the_tables(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    exp = store.create_experiment("doc")
    run_id = store.create_run(exp, "u", 0, [], "big").info.run_id
    tags = [RunTag(f"tag{i:03d}", "x" * 5000) for i in range(_params_tags.MAX_CHARS // 5000 + 1)]
    store.log_batch(run_id, [], [Param("alpha", "0.1")], tags)
    assert _document(store, run_id) is None
    store.set_tag(run_id, RunTag("small", "s"))  # stays NULL: the tables hold the truth
    assert _document(store, run_id) is None
    expected = {tag.key: tag.value for tag in tags} | {"small": "s", "mlflow.runName": "big"}
    assert store.get_run(run_id).data.tags == expected
    found = store.search_runs([exp], "params.alpha = '0.1'")
    assert [run.data.tags for run in found] == [expected]
    assert [run.data.params for run in found] == [{"alpha": "0.1"}]


def test_the_migration_builds_documents_of_existing_runs(db_uri):
    assert upgrade(db_uri, "0008") == "0008"
    with get_engine(normalize_url(db_uri)).begin() as conn:
        conftest.insert_runs_r1_r2(conn)
        conn.execute(sa.text(
            "INSERT INTO params (run_uuid, " + '"key"'.replace('"', _quote(conn)) +
            ", value) VALUES ('r1', 'alpha', '0.1'), ('r1', 'beta', 'b')"))
        conn.execute(sa.text(
            "INSERT INTO tags (run_uuid, " + '"key"'.replace('"', _quote(conn)) +
            ", value) VALUES ('r1', 'mlflow.runName', 'one')"))
    upgrade(db_uri)
    store = SqlTrackingStore(db_uri)
    assert _document(store, "r1") == {"params": [["alpha", "0.1"], ["beta", "b"]],
                                      "tags": [["mlflow.runName", "one"]]}
    assert _document(store, "r2") == {"params": [], "tags": []}
    assert store.get_run("r1").data.params == {"alpha": "0.1", "beta": "b"}


def _quote(conn) -> str:
    return "`" if conn.dialect.name in ("mysql", "mariadb") else '"'


HOSTILE = ["0.1", "50%", "a_b", "back\\slash", 'quo"te', '],"tags":[', '["alpha","0.1"]',
           "ünï", "", "trailing "]


def test_equality_filters_read_the_document_exactly(db_uri, tmp_path):
    store = SqlTrackingStore(db_uri, str(tmp_path))
    exp = store.create_experiment("doc")
    runs = {}
    for i, value in enumerate(HOSTILE):
        run_id = store.create_run(exp, "u", i, [], f"r{i}").info.run_id
        # each value as a param and, under another key, as a tag; the same pair as a tag
        # of the next run only, so a params filter must not find it there
        store.log_batch(run_id, [], [Param("alpha", value)],
                        [RunTag("t", value), RunTag("alpha", HOSTILE[i - 1])])
        runs[value] = run_id
    oversized = store.create_run(exp, "u", 99, [], "big").info.run_id
    store.log_batch(oversized, [], [Param("alpha", "0.1")],
                    [RunTag(f"k{i}", "x" * 6000) for i in range(12)] + [RunTag("t", "0.1")])
    assert _document(store, oversized) is None

    def found(filter_string):
        return {run.info.run_id for run in store.search_runs([exp], filter_string)}

    for value in HOSTILE:
        quoted = value.replace("\\", "\\\\").replace("'", "\\'")
        expected = {runs[value]} | ({oversized} if value == "0.1" else set())
        assert found(f"params.alpha = '{quoted}'") == expected, value
        assert found(f"tags.t = '{quoted}'") == expected, value
    assert found("params.alpha = '0.%'") == set()  # LIKE's wildcards stay literal
    assert found("params.alpha = '50_'") == set()
    assert found("params.alpha != '0.1'") == set(runs.values()) - {runs["0.1"]}


def test_writers_of_one_run_at_once_lose_nothing(db_uri, tmp_path):
    # each writer locks the run's row first, so every rewrite starts from the last one
    store = SqlTrackingStore(db_uri, str(tmp_path))
    run_id = store.create_run(store.create_experiment("doc"), "u", 0, [], "r").info.run_id

    def writer(n):
        for i in range(15):
            if i % 3 == 0:
                store.log_param(run_id, Param(f"p{n}-{i}", str(i)))
            else:
                store.set_tag(run_id, RunTag(f"t{n}-{i}", str(i)))

    assert conftest.run_writers(writer) == []
    tables = _tables(store, run_id)
    assert _document(store, run_id) == tables
    assert len(tables["params"]) == 4 * 5 and len(tables["tags"]) == 4 * 10 + 1
