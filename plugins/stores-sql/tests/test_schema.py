"""Schema creation, alembic migrations, the outdated-schema refusal and ``skiff db``."""

from __future__ import annotations

import click
import pytest
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
