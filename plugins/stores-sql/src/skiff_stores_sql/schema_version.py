"""Creating, checking and upgrading the schema.

- An empty database is created at the latest revision (tables from ``schema.metadata``,
  then the version row), under a lock so concurrent first starts do not race: SQLite's
  ``BEGIN IMMEDIATE`` (its DDL is transactional), PostgreSQL's advisory transaction lock,
  MySQL's named lock.
- A database at another revision is refused with one line naming ``skiff db upgrade``.
- ``upgrade(uri)`` runs the alembic migrations shipped in this package.
"""

from __future__ import annotations

import contextlib
import os

import sqlalchemy as sa

from skiff.errors import SkiffException
from skiff_stores_sql import schema
from skiff_stores_sql.engine import backend_of, connection_error, get_engine, normalize_url

HEAD_REVISION = "0014"
_LOCK_KEY = 7_413_622_019  # PostgreSQL advisory lock id for schema creation
_MYSQL_LOCK = "skiff_stores_sql_schema"

_version_meta = sa.MetaData()
version_table = sa.Table(
    schema.VERSION_TABLE,
    _version_meta,
    sa.Column("version_num", sa.String(32), primary_key=True),
    mysql_engine="InnoDB",
)


def _read_version(conn) -> str | None:
    """The stored revision, or None when the version table does not exist."""
    if not sa.inspect(conn).has_table(schema.VERSION_TABLE):
        return None
    return conn.execute(sa.select(version_table.c.version_num)).scalar()


def _refuse_foreign(conn, uri: str) -> None:
    names = set(sa.inspect(conn).get_table_names())
    if "alembic_version" in names and "experiments" in names:
        raise SkiffException(
            f"{uri} holds an MLflow database, which Skiff's SQL store does not open in place; "
            f"copy it with: skiff migrate --from {uri} --to <new database URI>",
            "INVALID_STATE",
        )
    if "experiments" in names or "runs" in names:
        raise SkiffException(
            f"{uri} already holds tables that Skiff did not create (experiments/runs); "
            "use an empty database",
            "INVALID_STATE",
        )


@contextlib.contextmanager
def _schema_lock(engine: sa.Engine):
    """A transaction that holds the database-wide schema lock."""
    backend = backend_of(engine.url)
    if backend == "sqlite":
        with engine.connect().execution_options(skiff_write=True) as conn, conn.begin():
            yield conn
    elif backend == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            yield conn
    else:
        with engine.connect() as conn:
            got = conn.execute(sa.text("SELECT GET_LOCK(:n, 120)"), {"n": _MYSQL_LOCK}).scalar()
            if got != 1:
                raise SkiffException("Timed out waiting for the schema lock", "INTERNAL_ERROR")
            try:
                conn.commit()
                with conn.begin():
                    yield conn
            finally:
                conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": _MYSQL_LOCK})
                conn.commit()


def _outdated(uri: str, found: str) -> SkiffException:
    if found > HEAD_REVISION:
        return SkiffException(
            f"The database schema of {uri} is at revision {found}, newer than this Skiff "
            f"({HEAD_REVISION}); upgrade skiff-stores-sql.",
            "INVALID_STATE",
        )
    return SkiffException(
        f"The database schema of {uri} is at revision {found} but this Skiff needs "
        f"{HEAD_REVISION}; take a backup, then run: skiff db upgrade {uri}",
        "INVALID_STATE",
    )


def ensure_schema(engine: sa.Engine, uri: str) -> None:
    """Create the schema in an empty database; refuse one at another revision."""
    try:
        with engine.connect() as conn:
            found = _read_version(conn)
    except sa.exc.OperationalError as exc:
        raise connection_error(engine.url, exc) from None
    if found == HEAD_REVISION:
        return
    if found is not None:
        raise _outdated(uri, found)
    with _schema_lock(engine) as conn:
        found = _read_version(conn)  # another process may have created it meanwhile
        if found is None:
            _refuse_foreign(conn, uri)
            schema.metadata.create_all(conn)
            version_table.create(conn)
            conn.execute(version_table.insert().values(version_num=HEAD_REVISION))
            return
    if found != HEAD_REVISION:
        raise _outdated(uri, found)


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(uri: str, revision: str = "head") -> str:
    """Bring the database to ``revision`` (default: the latest), creating it if empty.
    Returns the revision it is at afterwards."""
    from alembic import command

    url = normalize_url(uri)
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            found = _read_version(conn)
            if found is None:
                _refuse_foreign(conn, uri)
    except sa.exc.OperationalError as exc:
        raise connection_error(url, exc) from None
    cfg = alembic_config()
    with _schema_lock(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        return _read_version(conn)


def current_revision(uri: str) -> str | None:
    url = normalize_url(uri)
    try:
        with get_engine(url).connect() as conn:
            return _read_version(conn)
    except sa.exc.OperationalError as exc:
        raise connection_error(url, exc) from None
