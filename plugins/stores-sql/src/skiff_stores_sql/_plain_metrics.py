"""Plain metric points (key, value, timestamp, step and nothing else), written on the raw
driver connection.

``log_metric`` is the call a training loop makes thousands of times; through SQLAlchemy's
execution layer it costs ten times what the database does. These writers do what
``log_batch`` does for one point (check the run is active, insert the point, merge it into
``latest_metrics``) straight on a DB-API connection:

* SQLite: two statements in one ``BEGIN IMMEDIATE`` transaction, on a connection kept per
  thread (a pool checkout and check-in cost as much as the write);
* PostgreSQL: one statement (data-modifying CTEs), so one round trip, on a connection kept
  per thread in autocommit mode (a single statement is atomic by itself).

On PostgreSQL a metrics-only ``log_batch`` goes the same way: the points travel as a few
array parameters and one statement checks the run, inserts them and merges the newest
point of each key, in one round trip and one commit (the general path's BEGIN, run check,
COPY, upsert and COMMIT took six round trips and Python work per row).

Anything unusual (MySQL, datasets or model IDs on a point, a missing or deleted run, a
driver error) is rolled back and handed to ``log_batch``, which raises MLflow's errors.
"""

from __future__ import annotations

import math
import os
import threading

from sqlalchemy.pool import StaticPool

from skiff.entities import Metric
from skiff.validation import validate_key_name
from skiff_stores_sql._common import FINITE, batch_seq_base, encode_value
from skiff_stores_sql._dialect import LATEST_COLUMNS

_INF, _NINF = float("inf"), float("-inf")
_KNOWN_GOOD_KEYS_MAX = 10_000
_METRIC_COLUMNS = ("run_uuid", "key", "step", "timestamp", "seq", "value", "value_kind")


def _names(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


_LATEST_UPDATE = (
    f'ON CONFLICT (run_uuid, "key") DO UPDATE SET '
    f'{", ".join(f"{chr(34)}{c}{chr(34)} = excluded.{chr(34)}{c}{chr(34)}" for c in LATEST_COLUMNS[2:])} '
    'WHERE (excluded.step, excluded."timestamp", excluded.value) > '
    '(latest_metrics.step, latest_metrics."timestamp", latest_metrics.value)'
)


def plain_metrics_writer(engine, backend: str):
    if backend == "sqlite":
        if isinstance(engine.pool, StaticPool):  # in memory: its one connection is the data
            return MetricWriter(engine)
        return SqliteMetricWriter(engine)
    if backend == "postgresql":
        return PostgresMetricWriter(engine)
    return MetricWriter(engine)


class MetricWriter:
    """The common part: which points qualify, and their column values. As a writer of its
    own it declines every point (MySQL takes the general path)."""

    def __init__(self, engine):
        self.engine = engine
        self._good_keys: set[str] = set()
        self._local = threading.local()

    def _connection(self):
        """A driver connection kept per thread (and process), outside the pool: a checkout
        and check-in cost as much as writing one point."""
        local = self._local
        if getattr(local, "connection", None) is None or local.pid != os.getpid():
            pooled = self.engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()  # ours for this thread's lifetime
            self._prepare(connection)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def _prepare(self, connection) -> None:
        """Session settings of this writer's connections."""

    def _drop_connection(self) -> None:
        """Forget this thread's connection after an error (rolled back and closed)."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.rollback()
                connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def try_write(self, run_id: str, metric: Metric) -> bool:
        """Write ``metric`` and return True, or write nothing and return False."""
        if not self._plain(metric):
            return False
        value = metric.value
        try:
            if value != value or value in (_INF, _NINF):
                value, kind = encode_value(value)
            else:
                value, kind = float(value), FINITE
        except OverflowError:  # an int too large for a double: log_batch says so
            return False
        return self._write(str(run_id), metric, value, kind)

    def _write(self, run_id: str, metric: Metric, value: float, kind: int) -> bool:
        return False

    def try_write_batch(self, run_id: str, metrics: list) -> bool:
        """Write a validated batch of plain points and return True, or write nothing and
        return False (only PostgreSQL has a batch path of its own)."""
        return False

    def _plain(self, m: Metric) -> bool:
        """A point with nothing but key, value, timestamp and step, each well-typed."""
        if (m.dataset_name is not None or m.dataset_digest is not None
                or m.model_id is not None or type(m.value) not in (float, int)
                or type(m.timestamp) is not int or m.timestamp < 0
                or type(m.step) is not int or type(m.key) is not str):
            return False
        if m.key not in self._good_keys:
            validate_key_name(m.key, "metric")
            if len(self._good_keys) < _KNOWN_GOOD_KEYS_MAX:
                self._good_keys.add(m.key)
        return True


class SqliteMetricWriter(MetricWriter):
    # The point is inserted only if its run is active (no row inserted: a missing or
    # deleted run, left to log_batch to report).
    INSERT = (f"INSERT INTO metrics ({_names(_METRIC_COLUMNS)}) "
              "SELECT run_uuid, ?, ?, ?, ?, ?, ? FROM runs "
              "WHERE run_uuid = ? AND lifecycle_stage = 'active'")
    LATEST = (f"INSERT INTO latest_metrics ({_names(LATEST_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(LATEST_COLUMNS))}) {_LATEST_UPDATE}")

    def _write(self, run_id, metric, value, kind) -> bool:
        try:
            connection = self._connection()
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(self.INSERT, (metric.key, metric.step, metric.timestamp,
                                             batch_seq_base(), value, kind, run_id))
                if cursor.rowcount != 1:
                    connection.rollback()
                    return False
                cursor.execute(self.LATEST, (run_id, metric.key, metric.step, metric.timestamp,
                                             value, kind, None, None, None))
            finally:
                cursor.close()
            connection.commit()
            return True
        except Exception:  # noqa: BLE001 - the general path retries and reports it
            self._drop_connection()
            return False


class PostgresMetricWriter(MetricWriter):
    # The two inserts read the run through ``r``: no active run, no rows, nothing written;
    # the count of inserted points tells which happened.
    STATEMENT = (
        "WITH r AS (SELECT run_uuid FROM runs "
        "WHERE run_uuid = %(run)s AND lifecycle_stage = 'active'), "
        f"m AS (INSERT INTO metrics ({_names(_METRIC_COLUMNS)}) "
        "SELECT run_uuid, %(key)s, %(step)s, %(ts)s, %(seq)s, %(value)s, %(kind)s FROM r "
        "RETURNING 1), "
        f"l AS (INSERT INTO latest_metrics ({_names(LATEST_COLUMNS)}) "
        "SELECT run_uuid, %(key)s, %(step)s, %(ts)s, %(value)s, %(kind)s, NULL, NULL, NULL "
        f"FROM r {_LATEST_UPDATE}) "
        "SELECT count(*) FROM m"
    )

    # The batch as arrays, numbered by WITH ORDINALITY (the position in the batch is the
    # low bits of ``seq``); the newest point of each key (found here, cheaper than a sort in
    # the statement) is merged into latest_metrics as log_batch's upsert does.
    BATCH_STATEMENT = (
        "WITH r AS (SELECT run_uuid FROM runs "
        "WHERE run_uuid = %(run)s AND lifecycle_stage = 'active'), "
        f"m AS (INSERT INTO metrics ({_names(_METRIC_COLUMNS)}) "
        "SELECT r.run_uuid, p.k, p.step, p.ts, %(seq)s + p.i - 1, p.value, p.kind "
        "FROM r, unnest(CAST(%(keys)s AS text[]), CAST(%(steps)s AS int8[]), "
        "CAST(%(stamps)s AS int8[]), CAST(%(values)s AS float8[]), CAST(%(kinds)s AS int2[])) "
        "WITH ORDINALITY AS p(k, step, ts, value, kind, i) RETURNING 1), "
        f"l AS (INSERT INTO latest_metrics ({_names(LATEST_COLUMNS)}) "
        "SELECT r.run_uuid, p.k, p.step, p.ts, p.value, p.kind, NULL, NULL, NULL "
        "FROM r, unnest(CAST(%(latest_keys)s AS text[]), CAST(%(latest_steps)s AS int8[]), "
        "CAST(%(latest_stamps)s AS int8[]), CAST(%(latest_values)s AS float8[]), "
        "CAST(%(latest_kinds)s AS int2[])) AS p(k, step, ts, value, kind) "
        f"{_LATEST_UPDATE}) "
        "SELECT count(*) FROM m"
    )

    def try_write_batch(self, run_id: str, metrics: list) -> bool:
        params = _batch_arrays(metrics)
        if params is None:
            return False
        params["run"], params["seq"] = str(run_id), batch_seq_base()
        return self._execute(self.BATCH_STATEMENT, params) == len(metrics)

    def _prepare(self, connection) -> None:
        connection.autocommit = True  # each statement commits itself

    def _write(self, run_id, metric, value, kind) -> bool:
        return self._execute(self.STATEMENT, {
            "run": run_id, "key": metric.key, "step": metric.step, "ts": metric.timestamp,
            "seq": batch_seq_base(), "value": value, "kind": kind}) == 1

    def _execute(self, statement: str, params: dict) -> int:
        """The statement's count of inserted points; 0 after any error (nothing stored: a
        single statement in autocommit mode is all or nothing)."""
        try:
            connection = self._connection()
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchone()[0]
        except Exception:  # noqa: BLE001 - the general path retries and reports it
            self._drop_connection()
            return 0


def _array(values) -> str:
    """A PostgreSQL array literal of numbers: one string parameter instead of a list that
    the driver would dump element by element."""
    return "{" + ",".join(map(repr, values)) + "}"


def _key_array(keys) -> str:
    # Valid key names hold no quote or backslash (checked by the caller): quoted, each
    # stays one element whatever spaces or commas it holds.
    return "{" + ",".join(['"' + k + '"' for k in keys]) + "}"


def _batch_arrays(metrics: list) -> dict | None:
    """A validated batch, and the newest point of each of its keys, as array parameters;
    None when any point is not plain."""
    if any(m.dataset_name is not None or m.dataset_digest is not None
           or m.model_id is not None for m in metrics):
        return None
    keys = [m.key for m in metrics]
    steps = [m.step for m in metrics]
    stamps = [m.timestamp for m in metrics]
    try:
        values = [float(m.value) for m in metrics]
    except (OverflowError, TypeError, ValueError):
        return None
    if not ({type(v) for v in steps} | {type(v) for v in stamps}) <= {int}:
        return None
    if any('"' in k or "\\" in k for k in set(keys)):
        return None
    if all(map(math.isfinite, values)):
        kinds = [FINITE] * len(values)
    else:
        pairs = [encode_value(v) for v in values]
        values, kinds = [v for v, _ in pairs], [k for _, k in pairs]
    newest: dict[str, int] = {}  # key -> index of its newest point, by (step, timestamp, value)
    for i, key in enumerate(keys):
        j = newest.get(key)
        if j is None or (steps[i], stamps[i], values[i]) > (steps[j], stamps[j], values[j]):
            newest[key] = i
    latest = list(newest.values())
    return {
        "keys": _key_array(keys), "steps": _array(steps), "stamps": _array(stamps),
        "values": _array(values), "kinds": _array(kinds),
        "latest_keys": _key_array([keys[i] for i in latest]),
        "latest_steps": _array([steps[i] for i in latest]),
        "latest_stamps": _array([stamps[i] for i in latest]),
        "latest_values": _array([values[i] for i in latest]),
        "latest_kinds": _array([kinds[i] for i in latest]),
    }
