"""Schema creation, alembic migrations, the outdated-schema refusal and ``skiff db``."""

from __future__ import annotations

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from skiff.errors import SkiffException
from skiff_stores_sql import schema
from skiff_stores_sql.engine import get_engine, normalize_url
from skiff_stores_sql.schema_version import HEAD_REVISION, alembic_config, current_revision, upgrade


def _open(uri):
    from skiff_stores_sql.store import SqlTrackingStore

    return SqlTrackingStore(uri)


def test_head_revision_is_the_migrations_head():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_fresh_database_is_created_at_head(db_uri):
    assert current_revision(db_uri) is None
    store = _open(db_uri)
    assert current_revision(db_uri) == HEAD_REVISION
    assert store.get_experiment("0").name == "Default"
    _open(db_uri)  # opening again changes nothing
    assert [e.experiment_id for e in store.search_experiments()] == ["0"]


def test_migrations_build_the_same_schema_as_the_tables(db_uri):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert upgrade(db_uri) == HEAD_REVISION
    with get_engine(normalize_url(db_uri)).connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "version_table": schema.VERSION_TABLE,
            # PostgreSQL's own indexes, kept out of the metadata (checked below)
            "include_object": lambda obj, name, kind, reflected, other: not (
                kind == "index" and name in schema.POSTGRES_ONLY_INDEXES),
        })
        diff = compare_metadata(context, schema.metadata)
    assert diff == []
    store = _open(db_uri)
    assert store.get_experiment("0").name == "Default"


def test_outdated_schema_is_refused_until_upgraded(db_uri):
    assert upgrade(db_uri, "0001") == "0001"
    with pytest.raises(SkiffException) as info:
        _open(db_uri)
    message = info.value.message
    assert "\n" not in message
    assert message.endswith(f"run: skiff db upgrade {db_uri}")
    assert "0001" in message and HEAD_REVISION in message

    from skiff_stores_sql.cli import db

    result = CliRunner().invoke(db, ["upgrade", db_uri])
    assert result.exit_code == 0, result.output
    assert HEAD_REVISION in result.output
    assert _open(db_uri).get_experiment("0").name == "Default"
    result = CliRunner().invoke(db, ["current", db_uri])
    assert result.output.strip() == HEAD_REVISION


def test_database_of_another_tool_is_refused(sqlite_uri):
    engine = get_engine(normalize_url(sqlite_uri))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.exec_driver_sql("CREATE TABLE experiments (experiment_id INTEGER)")
    with pytest.raises(SkiffException, match="MLflow database.*skiff migrate"):
        _open(sqlite_uri)


def test_db_command_is_registered_through_the_hook():
    from skiff_stores_sql import plugin

    @click.group()
    def cli():
        pass

    plugin.register_commands(cli)
    assert "db" in cli.commands
    assert set(cli.commands["db"].commands) >= {"upgrade", "current"}


def test_db_upgrade_of_unreachable_server_is_one_line():
    from skiff_stores_sql.cli import db

    result = CliRunner().invoke(db, ["upgrade", "postgresql://postgres@127.0.0.1:1/nowhere"])
    assert result.exit_code != 0
    assert "127.0.0.1:1" in result.output
    assert "Traceback" not in result.output


def _statistics(uri) -> set[str]:
    with get_engine(normalize_url(uri)).connect() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT stxname FROM pg_statistic_ext")}


@pytest.mark.parametrize("how", ["fresh", "upgraded"])
def test_postgres_keeps_key_value_statistics(postgres_uri, how):
    # the planner's estimate of params.alpha = '0.1' depends on them (revision 0006)
    if how == "fresh":
        _open(postgres_uri)
    else:
        upgrade(postgres_uri, "0005")
        assert _statistics(postgres_uri) == set()
        upgrade(postgres_uri)
    assert _statistics(postgres_uri) == set(schema.KEY_VALUE_STATISTICS.values())


def _latest_metrics_index(uri) -> str:
    with get_engine(normalize_url(uri)).connect() as conn:
        return conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_latest_metrics_key_value'"
        ).scalar()


@pytest.mark.parametrize("how", ["fresh", "upgraded"])
def test_postgres_latest_metrics_index_carries_the_run_id(postgres_uri, how):
    # a metric-ordered search joins from this index alone (revision 0007)
    if how == "fresh":
        _open(postgres_uri)
    else:
        upgrade(postgres_uri, "0006")
        assert "INCLUDE" not in _latest_metrics_index(postgres_uri)
        upgrade(postgres_uri)
    assert _latest_metrics_index(postgres_uri).endswith(
        "(key, value, value_kind) INCLUDE (run_uuid)")


def _hash_indexes(uri) -> set[str]:
    with get_engine(normalize_url(uri)).connect() as conn:
        return {row[0] for row in conn.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE position('USING hash' IN indexdef) > 0")}


@pytest.mark.parametrize("how", ["fresh", "upgraded"])
def test_postgres_looks_runs_up_through_a_hash_index(postgres_uri, how):
    # a search page's ~5,000 run lookups by ID (revision 0010)
    if how == "fresh":
        _open(postgres_uri)
    else:
        upgrade(postgres_uri, "0009")
        assert _hash_indexes(postgres_uri) == set()
        upgrade(postgres_uri)
    assert _hash_indexes(postgres_uri) == set(schema.POSTGRES_ONLY_INDEXES)


def _rowid_tables(uri) -> set[str]:
    """The registry tables of a SQLite database that still have a rowid."""
    with get_engine(normalize_url(uri)).connect() as conn:
        return {table.name for table in schema.REGISTRY_TABLES
                if "WITHOUT ROWID" not in conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (table.name,)).scalar()}


def test_sqlite_registry_tables_are_clustered_and_upgrades_keep_their_rows(sqlite_uri):
    # revision 0008 rebuilds them WITHOUT ROWID; the rows and indexes must survive
    from skiff.entities import RunTag
    from skiff_stores_sql._registry import SqlRegistryStore

    upgrade(sqlite_uri, "0007")
    assert _rowid_tables(sqlite_uri) == {t.name for t in schema.REGISTRY_TABLES}
    with get_engine(normalize_url(sqlite_uri)).begin() as conn:
        conn.execute(schema.registered_models.insert(), [
            {"name": "m", "creation_timestamp": 1, "last_updated_timestamp": 2,
             "last_version": 1}])
        conn.execute(schema.model_versions.insert(), [
            {"name": "m", "version": 1, "creation_timestamp": 1, "last_updated_timestamp": 2,
             "current_stage": "Production", "source": "s3://b/m", "status": "READY"}])
        conn.execute(schema.registered_model_tags.insert(), [
            {"name": "m", "key": "team", "value": "risk"}])
        conn.execute(schema.model_version_tags.insert(), [
            {"name": "m", "version": 1, "key": "validated", "value": "true"}])
        conn.execute(schema.registered_model_aliases.insert(), [
            {"name": "m", "alias": "champion", "version": 1}])
    upgrade(sqlite_uri)
    assert _rowid_tables(sqlite_uri) == set()
    store = SqlRegistryStore(sqlite_uri)
    model = store.get_registered_model("m")
    assert model.tags == {"team": "risk"} and model.aliases == {"champion": "1"}
    assert [(v.version, v.current_stage, v.tags) for v in model.latest_versions] == [
        ("1", "Production", {"validated": "true"})]
    store.set_registered_model_tag("m", RunTag("tier", "gold"))
    assert [m.name for m in store.search_registered_models("tags.tier = 'gold'")] == ["m"]
    with get_engine(normalize_url(sqlite_uri)).connect() as conn:
        indexes = {row[0] for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert {"ix_registered_models_updated", "ix_model_versions_run",
            "ix_model_version_tags_key"} <= indexes
    from alembic import command  # and back, rows kept

    config = alembic_config()
    with get_engine(normalize_url(sqlite_uri)).begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    assert _rowid_tables(sqlite_uri) == {t.name for t in schema.REGISTRY_TABLES}
    with get_engine(normalize_url(sqlite_uri)).connect() as conn:
        assert [conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                for table in schema.REGISTRY_TABLES] == [1, 1, 1, 2, 1]
