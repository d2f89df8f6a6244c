"""Plain metric points (key, value, timestamp, step and nothing else), written on the raw
driver connection.

``log_metric`` is the call a training loop makes thousands of times; through SQLAlchemy's
execution layer it costs ten times what the database does. These writers do what
``log_batch`` does for one point (check and lock the run, insert the point, merge it into
``latest_metrics`` and, if it is the newest, into the run's ``_latest_metrics_doc``)
straight on a DB-API connection:

* SQLite: two statements in one ``BEGIN IMMEDIATE`` transaction, on a connection kept per
  thread (a pool checkout and check-in cost as much as the write);
* PostgreSQL: one statement (data-modifying CTEs), so one round trip, on a connection kept
  per thread in autocommit mode (a single statement is atomic by itself).

On PostgreSQL a metrics-only ``log_batch`` goes the same way: the points travel as a few
array parameters and one statement checks the run, inserts them and merges the newest
point of each key, in one round trip and one commit (the general path's BEGIN, run check,
COPY, upsert and COMMIT took six round trips and Python work per row).

Anything unusual (MySQL, datasets or model IDs on a point, a missing or deleted run, an
error the server reports) is rolled back and handed to ``log_batch``, which raises MLflow's
errors. A PostgreSQL connection that goes silent while a write is out is reported instead:
the write may have committed.
"""

from __future__ import annotations

import json
import os
import threading
import time

from sqlalchemy.pool import StaticPool

from skiff.entities import Metric
from skiff.errors import SkiffException
from skiff.validation import validate_key_name
from skiff_stores_sql._common import (
    FINITE,
    METRIC_COLUMNS,
    batch_seq_base,
    encode_value,
    latest_per_key,
    metric_rows_of,
)
from skiff_stores_sql._dialect import LATEST_COLUMNS, LATEST_MERGE
from skiff_stores_sql._dialect import quoted_names as _names
from skiff_stores_sql._latest_metrics_doc import COLUMN as DOC
from skiff_stores_sql._latest_metrics_doc import MAX_CHARS, entry
from skiff_stores_sql.engine import IDLE_BEFORE_PING_S, describe_location

_INF, _NINF = float("inf"), float("-inf")
_KNOWN_GOOD_KEYS_MAX = 10_000
_METRIC_COLUMNS = METRIC_COLUMNS[:7]  # a plain point's: no dataset or model ID


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
        """Write a validated batch of points and return True, or write nothing and return
        False (only PostgreSQL has a batch path of its own)."""
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
              f"VALUES ({', '.join('?' * len(LATEST_COLUMNS))}) {LATEST_MERGE}")
    # The point, when the merge took it, as its key's entry in the run's latest-metrics
    # document (SQLite's json_set; the value goes in as its exact text); NULL past
    # MAX_CHARS, and a NULL document stays NULL.
    _SET = f'json_set("{DOC}", :path, json_array(:value, :kind, :ts, :step))'
    DOCUMENT = (f'UPDATE runs SET "{DOC}" = iif(length({_SET}) > {MAX_CHARS}, NULL, {_SET}) '
                f'WHERE run_uuid = :run AND "{DOC}" IS NOT NULL')

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
                if cursor.rowcount:  # the merge took the point: it is the key's latest
                    cursor.execute(self.DOCUMENT, {
                        "path": f'$."{metric.key}"', "value": repr(value), "kind": kind,
                        "ts": metric.timestamp, "step": metric.step, "run": run_id})
            finally:
                cursor.close()
            connection.commit()
            return True
        except Exception:  # noqa: BLE001 - the general path retries and reports it
            self._drop_connection()
            return False


# The run, locked as an UPDATE of its row would (the document is written below): every
# writer of latest_metrics locks the run first, so two never wait on each other crosswise.
_RUN = ("SELECT run_uuid FROM runs WHERE run_uuid = %(run)s AND lifecycle_stage = 'active' "
        "FOR NO KEY UPDATE")
# The document's entries of the keys the merge ``l`` changed (its RETURNING: the rows it
# inserted or replaced), taken from ``%(doc)s``: the newest point of each key of the call,
# in document form. NULL past MAX_CHARS, and a NULL document stays NULL.
def _document_update(changes: str) -> str:
    return (
        f'UPDATE runs SET "{DOC}" = (SELECT CASE WHEN length(x) > {MAX_CHARS} THEN NULL '
        f'ELSE x END FROM (SELECT (runs."{DOC}"::jsonb || {changes})::text AS x) AS s) '
        f'WHERE runs.run_uuid = %(run)s AND runs."{DOC}" IS NOT NULL '
        "AND EXISTS (SELECT 1 FROM l)")


# one point: if the merge took it, its entry is all of ``%(doc)s``
_POINT_DOCUMENT_UPDATE = _document_update("CAST(%(doc)s AS jsonb)")
# a batch: the entries of the keys the merge took (a jsonb_each join costs ~0.1 ms more)
_BATCH_DOCUMENT_UPDATE = _document_update(
    "COALESCE((SELECT jsonb_object_agg(l.\"key\", CAST(%(doc)s AS jsonb) -> l.\"key\") "
    "FROM l), '{}'::jsonb)")


class PostgresMetricWriter(MetricWriter):
    # The two inserts read the run through ``r``: no active run, no rows, nothing written;
    # the count of inserted points tells which happened.
    STATEMENT = (
        f"WITH r AS ({_RUN}), "
        f"m AS (INSERT INTO metrics ({_names(_METRIC_COLUMNS)}) "
        "SELECT run_uuid, %(key)s, %(step)s, %(ts)s, %(seq)s, %(value)s, %(kind)s FROM r "
        "RETURNING 1), "
        f"l AS (INSERT INTO latest_metrics ({_names(LATEST_COLUMNS)}) "
        "SELECT run_uuid, %(key)s, %(step)s, %(ts)s, %(value)s, %(kind)s, NULL, NULL, NULL "
        f'FROM r {LATEST_MERGE} RETURNING "key"), '
        f"d AS ({_POINT_DOCUMENT_UPDATE}) "
        "SELECT count(*) FROM m"
    )

    # The batch's columns as arrays, numbered by WITH ORDINALITY: ``seq`` is the batch's
    # base plus the position, as in its rows; the newest point of each key is merged into
    # latest_metrics as log_batch's upsert does.
    BATCH_STATEMENT = (
        f"WITH r AS ({_RUN}), "
        f"m AS (INSERT INTO metrics ({_names(_METRIC_COLUMNS)}) "
        "SELECT r.run_uuid, p.k, p.step, p.ts, %(seq)s + p.i - 1, p.value, p.kind "
        "FROM r, unnest(CAST(%(keys)s AS text[]), CAST(%(steps)s AS int8[]), "
        "CAST(%(stamps)s AS int8[]), CAST(%(values)s AS float8[]), CAST(%(kinds)s AS int2[])) "
        "WITH ORDINALITY AS p(k, step, ts, value, kind, i) RETURNING 1), "
        f"l AS (INSERT INTO latest_metrics ({_names(LATEST_COLUMNS)}) "
        "SELECT r.run_uuid, p.*, NULL, NULL, NULL FROM r, "
        "unnest(CAST(%(latest_keys)s AS text[]), CAST(%(latest_steps)s AS int8[]), "
        "CAST(%(latest_stamps)s AS int8[]), CAST(%(latest_values)s AS float8[]), "
        f'CAST(%(latest_kinds)s AS int2[])) AS p {LATEST_MERGE} RETURNING "key"), '
        f"d AS ({_BATCH_DOCUMENT_UPDATE}) "
        "SELECT count(*) FROM m"
    )

    def try_write_batch(self, run_id, metrics) -> bool:
        try:
            rows = metric_rows_of(str(run_id), metrics)
        except (OverflowError, TypeError, ValueError):  # log_batch reports the bad point
            return False
        columns = list(zip(*rows))
        run, keys, steps, stamps, seqs, values, kinds = columns[:7]
        # Points with a dataset or a model ID (the last three columns) take the general
        # path; valid key names hold no quote or backslash, which the array literal needs.
        if any(column.count(None) != len(rows) for column in columns[7:]) or \
                any('"' in k or "\\" in k for k in set(keys)):
            return False
        latest = latest_per_key(rows)
        _, latest_keys, latest_steps, latest_stamps, latest_values, latest_kinds = \
            list(zip(*latest))[:6]
        return self._execute(self.BATCH_STATEMENT, {
            "doc": json.dumps({row[1]: entry(row[4], row[5], row[3], row[2]) for row in latest}),
            "run": run[0], "seq": seqs[0], "keys": _key_array(keys), "steps": _array(steps),
            "stamps": _array(stamps), "values": _array(values), "kinds": _array(kinds),
            "latest_keys": _key_array(latest_keys), "latest_steps": _array(latest_steps),
            "latest_stamps": _array(latest_stamps), "latest_values": _array(latest_values),
            "latest_kinds": _array(latest_kinds),
        }) == len(rows)

    def _prepare(self, connection) -> None:
        connection.autocommit = True  # each statement commits itself
        self._local.used = None  # a new connection: no ping before its first write

    def _connection(self):
        """This thread's connection, pinged first when idle for a while (a server restart or
        timeout may have closed it): once a write is sent, a failure is not retried."""
        connection = super()._connection()
        used, now = self._local.used, time.monotonic()
        if connection.closed:  # known dead (nothing was sent on it): a new one at once
            self._drop_connection()
            connection = super()._connection()
        elif used is not None and now - used >= IDLE_BEFORE_PING_S:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except Exception:  # noqa: BLE001 - a dead connection: start a new one
                self._drop_connection()
                connection = super()._connection()
        self._local.used = now
        return connection

    def _write(self, run_id, metric, value, kind) -> bool:
        return self._execute(self.STATEMENT, {
            "run": run_id, "key": metric.key, "step": metric.step, "ts": metric.timestamp,
            "seq": batch_seq_base(), "value": value, "kind": kind,
            "doc": json.dumps({metric.key: entry(value, kind, metric.timestamp, metric.step)}),
        }) == 1

    def _execute(self, statement: str, params: dict) -> int:
        """The statement's count of inserted points; 0 when nothing was stored (any error
        the server reports: a single statement in autocommit mode is all or nothing). A
        connection that went silent while the statement was out may have taken the reply
        to its commit with it: written again by the general path, the points could be
        stored twice, so that is reported (TEMPORARILY_UNAVAILABLE)."""
        try:
            connection = self._connection()
        except Exception:  # noqa: BLE001 - no connection, nothing sent: the general path
            self._drop_connection()
            return 0
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchone()[0]
        except Exception as exc:  # noqa: BLE001 - the general path retries and reports it
            # An error the server sent (it has a SQLSTATE: a failed statement, or a session
            # it terminated, which answers before running anything) means nothing was
            # stored; a connection that just went silent may have committed.
            reported = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
            lost = not reported and bool(getattr(connection, "broken", False)
                                         or connection.closed)
            self._drop_connection()
            if lost:
                raise SkiffException(
                    f"Lost the connection to the {describe_location(self.engine.url)} while "
                    f"writing metrics; they may or may not have been stored: "
                    f"{' '.join(str(exc).split())[:300]}", "TEMPORARILY_UNAVAILABLE") from None
            return 0


def _array(values) -> str:
    """A PostgreSQL array literal of numbers: one string parameter instead of a list that
    the driver would dump element by element."""
    return "{" + ",".join(map(repr, values)) + "}"


def _key_array(keys) -> str:
    # Quoted (keys hold no quote or backslash: checked by the caller), each key stays one
    # element whatever spaces or commas it holds.
    return "{" + ",".join(['"' + k + '"' for k in keys]) + "}"
