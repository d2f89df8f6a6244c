"""Fresh databases for each test: a SQLite file, or a uniquely named database on the
PostgreSQL / MariaDB servers at 127.0.0.1 (dropped afterwards).

Without a server the PostgreSQL/MariaDB tests are skipped locally and fail when CI=true.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
MYSQL_HOST, MYSQL_PORT, MYSQL_USER = "127.0.0.1", 3306, "root"


def _missing(what: str, exc: Exception):
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _pg_admin():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                           autocommit=True, connect_timeout=5)


def _mysql_admin():
    import pymysql

    return pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, autocommit=True,
                           connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_server():
    try:
        _pg_admin().close()
    except Exception as exc:  # noqa: BLE001 - any failure means no server
        _missing(f"PostgreSQL at {PG_HOST}:{PG_PORT}", exc)
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}"


@pytest.fixture(scope="session")
def mysql_server():
    try:
        _mysql_admin().close()
    except Exception as exc:  # noqa: BLE001
        _missing(f"MariaDB/MySQL at {MYSQL_HOST}:{MYSQL_PORT}", exc)
    return f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}"


def _dispose(uri: str) -> None:
    from skiff_stores_sql.engine import dispose_engine, normalize_url

    dispose_engine(normalize_url(uri))


def make_postgres_db(server: str):
    name = f"skiff_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}", name


def drop_postgres_db(uri: str, name: str) -> None:
    _dispose(uri)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_mysql_db(server: str):
    name = f"skiff_test_{uuid.uuid4().hex[:12]}"
    conn = _mysql_admin()
    try:
        conn.cursor().execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    finally:
        conn.close()
    return f"{server}/{name}", name


def drop_mysql_db(uri: str, name: str) -> None:
    _dispose(uri)
    conn = _mysql_admin()
    try:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


@pytest.fixture
def sqlite_uri(tmp_path):
    uri = f"sqlite:///{tmp_path / 'skiff.db'}"
    yield uri
    _dispose(uri)


@pytest.fixture
def postgres_uri(postgres_server):
    uri, name = make_postgres_db(postgres_server)
    yield uri
    drop_postgres_db(uri, name)


@pytest.fixture
def mysql_uri(mysql_server):
    uri, name = make_mysql_db(mysql_server)
    yield uri
    drop_mysql_db(uri, name)


def _wipe(uri: str) -> None:
    """Delete every row (the schema stays), so the next test starts from an empty store."""
    import sqlalchemy as sa

    from skiff_stores_sql import schema
    from skiff_stores_sql.engine import get_engine, normalize_url

    engine = get_engine(normalize_url(uri))
    with engine.begin() as conn:
        if not sa.inspect(conn).has_table(schema.VERSION_TABLE):
            return
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())


# The contract suite runs many short tests: one database per test class, emptied after
# every test, keeps it fast while each class still gets a database of its own.
@pytest.fixture(scope="class")
def postgres_class_db(postgres_server):
    uri, name = make_postgres_db(postgres_server)
    yield uri
    drop_postgres_db(uri, name)


@pytest.fixture(scope="class")
def mysql_class_db(mysql_server):
    uri, name = make_mysql_db(mysql_server)
    yield uri
    drop_mysql_db(uri, name)


@pytest.fixture
def postgres_shared_uri(postgres_class_db):
    yield postgres_class_db
    _wipe(postgres_class_db)


@pytest.fixture
def mysql_shared_uri(mysql_class_db):
    yield mysql_class_db
    _wipe(mysql_class_db)


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def db_uri(request):
    """A fresh, empty database on each backend in turn."""
    return request.getfixturevalue(f"{request.param}_uri")


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mysql"])
def module_db_uri(request, tmp_path_factory):
    """One fresh database per test module and backend (for read-only data sets)."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path_factory.mktemp('db') / 'skiff.db'}"
        yield uri
        _dispose(uri)
        return
    server = request.getfixturevalue(f"{request.param}_server")
    make, drop = ((make_postgres_db, drop_postgres_db) if request.param == "postgres"
                  else (make_mysql_db, drop_mysql_db))
    uri, name = make(server)
    yield uri
    drop(uri, name)


def run_writers(writer, count: int = 4, timeout: float = 60) -> list:
    """Run ``writer(n)`` for each n below ``count``, all at once in threads; the exceptions
    they raised (a concurrency test expects none)."""
    import threading

    errors = []

    def guarded(n):
        try:
            writer(n)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors


def insert_runs_r1_r2(conn) -> None:
    """Two bare runs, 'r1' and 'r2', written with SQL (for a migration test: the store of an
    older revision cannot be used)."""
    import sqlalchemy as sa

    conn.execute(sa.text(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
        "lifecycle_stage, artifact_uri) VALUES ('r1', 0, 'one', 'u', 'FINISHED', 1, "
        "'active', '/tmp/r1'), ('r2', 0, 'two', 'u', 'FINISHED', 2, 'active', '/tmp/r2')"))
