"""Database URIs and engines: driver mapping, SQLite settings, connection errors, retries.

One engine per database URL per process, shared by every store object on it.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from skiff.env import get_env, get_env_int
from skiff.errors import SkiffException

ACCEPTED_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user:password@host:port/database (psycopg), "
    "mysql://user:password@host:port/database (PyMySQL; also mysql+pymysql://)"
)

# Bare schemes get the drivers this plugin installs.
_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_BACKENDS = ("sqlite", "postgresql", "mysql")

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def _bad_uri(uri: str, why: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(
        f"Invalid database URI {uri!r}: {why}. Accepted forms: {ACCEPTED_FORMS}"
    )


def normalize_url(uri: str) -> sa.URL:
    """Parse and check a store URI; bare postgresql/mysql get psycopg/PyMySQL."""
    if not isinstance(uri, str) or "://" not in uri:
        raise _bad_uri(str(uri), "expected '<scheme>://...'")
    scheme, rest = uri.split("://", 1)
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgres", "mariadb"):
        base = "postgresql" if base == "postgres" else "mysql"
    if base not in _BACKENDS:
        raise _bad_uri(uri, f"unsupported scheme {scheme!r}")
    if "+" not in scheme:
        scheme = _DEFAULT_DRIVERS.get(scheme.lower(), scheme.lower())
    elif scheme.lower().startswith("postgres+"):
        scheme = "postgresql+" + scheme.split("+", 1)[1]
    try:
        url = make_url(f"{scheme}://{rest}")
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and ValueError (bad port)
        raise _bad_uri(uri, str(exc).splitlines()[0]) from None
    if base == "sqlite":
        if url.host:
            raise _bad_uri(uri, "a SQLite URI has no host; use three slashes before a path")
    elif not url.database:
        raise _bad_uri(uri, "no database name")
    return url


def backend_of(url: sa.URL) -> str:
    name = url.get_backend_name()
    return "mysql" if name in ("mysql", "mariadb") else name


def is_memory_sqlite(url: sa.URL) -> bool:
    return backend_of(url) == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_on_connect(dbapi_conn, _record):
    # The driver must not open transactions by itself: we issue BEGIN (IMMEDIATE) below.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")
    with contextlib.suppress(Exception):  # an in-memory database has no WAL
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    # MLflow's rule: LIKE is case-sensitive on every backend.
    cursor.execute("PRAGMA case_sensitive_like = ON")
    # SQLite's default page cache (2 MB) holds little of a store: a page of registry
    # models read by last update, scattered over the name-keyed tables, paid a file read
    # per b-tree page it touched (~15% of its time at 10,000 models). Up to 32 MB each.
    cursor.execute("PRAGMA cache_size = -32768")
    cursor.close()


def _sqlite_on_begin(conn):
    # Writers take the write lock up front, so two writers never deadlock on a lock upgrade.
    if conn.get_execution_options().get("skiff_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _mysql_on_connect(dbapi_conn, _record):
    cursor = dbapi_conn.cursor()
    # The Default experiment has ID 0 in an AUTO_INCREMENT column.
    cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    cursor.close()


def _postgresql_on_connect(dbapi_conn, _record):
    # PostgreSQL's default random_page_cost (4) prices an index probe as a disk seek, so a
    # page's "tags of these 1000 runs" became a full scan (29 ms instead of 13). Skiff's
    # reads are index walks over a warm cache: price them so for this session, never
    # raising a value the server was tuned to. Parallel workers start as fresh backends
    # on each query: a search page's index walk paid up to 150 ms for them on a new
    # connection and gained nothing after, so they are priced to serve big scans only
    # (never lowering a higher setting).
    cursor = dbapi_conn.cursor()
    cursor.execute("SELECT set_config('random_page_cost', LEAST(current_setting("
                   "'random_page_cost')::float8, 1.1)::text, false), "
                   "set_config('parallel_setup_cost', GREATEST(current_setting("
                   "'parallel_setup_cost')::float8, 10000)::text, false)")
    cursor.close()
    dbapi_conn.commit()


# Execution options choosing when psycopg prepares a statement (see _execute).
PLAN_EACH_TIME = "skiff_plan_each_time"
PREPARE_AT_ONCE = "skiff_prepare_at_once"


def _execute(cursor, statement, parameters, context):
    """psycopg prepares a statement on its sixth run, and PostgreSQL plans a prepared
    statement for its values five times before it may keep one generic plan.

    - ``PLAN_EACH_TIME`` statements are never prepared, so each run is planned for its own
      values (~1 ms): for a search page a generic plan ignored the token's seek values,
      and pages 2-10 of a 100,000-run search took 400-600 ms instead of ~110 ms.
    - ``PREPARE_AT_ONCE`` statements (lookups by a list of keys, whose plan is the same
      for any keys) are prepared on their first run, so a connection plans them five
      times instead of ten: planning the = ANY of a page's 100 names costs more than
      running it (~1.5 ms of a ~1 ms statement).
    Every other statement keeps psycopg's own choice."""
    prepare = prepare_choice(context.execution_options if context is not None else None)
    if prepare is None:
        return None
    cursor.execute(statement, parameters, prepare=prepare)
    return True


def prepare_choice(options) -> bool | None:
    """psycopg's ``prepare`` argument for a statement run with these execution options
    (None: psycopg's own choice)."""
    if not options:
        return None
    if options.get(PLAN_EACH_TIME):
        return False
    if options.get(PREPARE_AT_ONCE):
        return True
    return None


def _build_engine(url: sa.URL) -> sa.Engine:
    backend = backend_of(url)
    kwargs: dict = {"future": True}
    echo = get_env("SQLALCHEMYSTORE_ECHO")
    if echo and echo.lower() == "true":
        kwargs["echo"] = True
    if backend == "sqlite":
        if is_memory_sqlite(url):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.update(
        pool_size=get_env_int("SQLALCHEMYSTORE_POOL_SIZE", 5),
        max_overflow=get_env_int("SQLALCHEMYSTORE_MAX_OVERFLOW", 10),
    )
    recycle = get_env("SQLALCHEMYSTORE_POOL_RECYCLE")
    if recycle:
        kwargs["pool_recycle"] = int(recycle)
    connect_args = {"connect_timeout": 10}
    if backend == "mysql":
        connect_args["charset"] = "utf8mb4"
    kwargs["connect_args"] = connect_args
    engine = sa.create_engine(url, **kwargs)
    if backend == "mysql":
        sa.event.listen(engine, "connect", _mysql_on_connect)
    else:
        sa.event.listen(engine, "connect", _postgresql_on_connect)
        if url.get_driver_name() == "psycopg":
            sa.event.listen(engine, "do_execute", _execute)
    _ping_when_idle(engine)
    return engine


# A pooled connection used this recently is taken as alive without a ping.
IDLE_BEFORE_PING_S = 5.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """SQLAlchemy's pool_pre_ping spends a round trip on every checkout, a fifth of a small
    read on PostgreSQL. A connection back from use moments ago is alive unless the server
    restarted in between, which ``with_retry`` covers; one idle longer (server timeouts,
    failovers, a laptop waking up) is pinged first, and a dead one replaced at once."""
    dialect = engine.dialect

    def checkin(_dbapi_conn, record):
        record.info["skiff_idle_since"] = time.monotonic()

    def checkout(dbapi_conn, record, _proxy):
        since = record.info.get("skiff_idle_since")
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING_S:
            return
        try:
            alive = dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure: a dead connection
            raise sa.exc.InvalidatePoolError() from exc
        if not alive:
            raise sa.exc.InvalidatePoolError()

    sa.event.listen(engine.pool, "checkin", checkin)
    sa.event.listen(engine.pool, "checkout", checkout)


def get_engine(url: sa.URL) -> sa.Engine:
    key = url.render_as_string(hide_password=False)
    engine = _engines.get(key)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _build_engine(url)
                _engines[key] = engine
    return engine


def dispose_engine(url: sa.URL) -> None:
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.pop(key, None)
    if engine is not None:
        engine.dispose()


def describe_location(url: sa.URL) -> str:
    if backend_of(url) == "sqlite":
        return f"SQLite file {url.database or ':memory:'}"
    port = url.port or {"postgresql": 5432, "mysql": 3306}[backend_of(url)]
    return f"{url.get_backend_name()} server at {url.host or 'localhost'}:{port}"


def connection_error(url: sa.URL, exc: BaseException) -> SkiffException:
    """One line naming where we tried to connect, instead of a driver traceback."""
    orig = getattr(exc, "orig", None) or exc
    detail = " ".join(str(orig).split())[:300]
    return SkiffException(
        f"Cannot connect to the {describe_location(url)} "
        f"(database {url.database!r}): {detail}",
        "TEMPORARILY_UNAVAILABLE",
    )


def _refused_value_errors(engine: sa.Engine) -> tuple:
    """What a refused value raises: SQLAlchemy's DataError, the driver's own (PEP 249;
    statements on the raw cursor, such as PostgreSQL's COPY, are not wrapped), and
    OverflowError (sqlite3 binding an integer past 64 bits)."""
    return (sa.exc.DataError, OverflowError,
            getattr(engine.dialect.dbapi, "DataError", sa.exc.DataError))


def refused_value_error(exc: BaseException) -> SkiffException:
    """A value the database or its driver refused (a NUL character in PostgreSQL text, a
    number beyond a column's range, a string longer than its column): the caller's input,
    so INVALID_PARAMETER_VALUE with the refusal's first line, not a 500 quoting our SQL.
    Nothing was stored: the statement failed and its transaction rolled back."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    detail = lines[0] if lines else type(orig).__name__
    return SkiffException.invalid_parameter_value(f"The database refused a value: {detail}")


def is_lock_error(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text or "deadlock" in text


def is_integrity_error(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.IntegrityError)


def with_retry(fn, *, attempts: int = 60, reconnect=lambda: True):
    """Run ``fn()`` again when SQLite reports a lock (or a server a deadlock), with jittered
    backoff. A connection that turned out dead (the pool replaces it) gets one more try
    straight away when ``reconnect()`` says nothing can have been stored (a write whose
    COMMIT was cut off may have been: that one is reported). Other errors go straight
    through."""
    delay = 0.01
    reconnected = False
    for attempt in range(attempts):
        try:
            return fn()
        except sa.exc.DBAPIError as exc:  # MySQL reports deadlocks as InternalError sometimes
            if exc.connection_invalidated and not reconnected and reconnect():
                reconnected = True
                continue
            if not is_lock_error(exc) or attempt == attempts - 1:
                raise
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")


def run_write(engine: sa.Engine, url: sa.URL, fn):
    """``fn(conn)`` in one write transaction: retried while SQLite is locked, and once on a
    connection found dead before the COMMIT (the server rolled that transaction back)."""
    committing = False

    def attempt():
        nonlocal committing
        committing = False
        with engine.connect().execution_options(skiff_write=True) as conn:
            with conn.begin():
                result = fn(conn)
                committing = True
        return result

    try:
        return with_retry(attempt, reconnect=lambda: not committing)
    except sa.exc.OperationalError as exc:
        if "connect" in str(exc.orig).lower():  # "connection", "connect to server"
            raise connection_error(url, exc) from None
        raise
    except _refused_value_errors(engine) as exc:
        raise refused_value_error(exc) from None


def run_read(engine: sa.Engine, fn):
    """``fn(conn)`` for reading. On PostgreSQL outside a transaction: at READ COMMITTED each
    statement has its own snapshot either way, and a read is then its statements' round
    trips only (no BEGIN and ROLLBACK)."""
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}

    def attempt():
        with engine.connect().execution_options(**options) as conn:
            return fn(conn)

    try:
        return with_retry(attempt)
    except _refused_value_errors(engine) as exc:
        raise refused_value_error(exc) from None
