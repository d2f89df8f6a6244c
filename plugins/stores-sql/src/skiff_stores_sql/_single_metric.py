"""One metric point, written on the raw driver connection.

``log_metric`` is the call a training loop makes thousands of times; through SQLAlchemy's
execution layer it costs ten times what the database does. This path runs the same three
statements as ``log_batch`` (check the run is active, insert the point, merge it into
``latest_metrics``) straight on the pooled DB-API connection, for SQLite and PostgreSQL.
Anything unusual (MySQL, datasets or model IDs on the point, a missing or deleted run, a
driver error) is rolled back and handed to ``log_batch``, which raises MLflow's errors.
"""

from __future__ import annotations

from skiff.entities import Metric
from skiff.validation import validate_key_name
from skiff_stores_sql._common import FINITE, batch_seq_base, encode_value
from skiff_stores_sql._dialect import LATEST_COLUMNS

_INF, _NINF = float("inf"), float("-inf")
_KNOWN_GOOD_KEYS_MAX = 10_000


class SingleMetricWriter:
    def __init__(self, engine, backend: str):
        self.engine = engine
        self.enabled = backend in ("sqlite", "postgresql")
        mark = "?" if backend == "sqlite" else "%s"
        self.begin = "BEGIN IMMEDIATE" if backend == "sqlite" else None
        self.check_sql = f"SELECT lifecycle_stage FROM runs WHERE run_uuid = {mark}"
        columns = ("run_uuid", "key", "step", "timestamp", "seq", "value", "value_kind")
        names = ", ".join(f'"{c}"' for c in columns)
        self.insert_sql = (f"INSERT INTO metrics ({names}) "
                           f"VALUES ({', '.join([mark] * len(columns))})")
        latest = ", ".join(f'"{c}"' for c in LATEST_COLUMNS)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in LATEST_COLUMNS[2:])
        self.latest_sql = (
            f"INSERT INTO latest_metrics ({latest}) "
            f"VALUES ({', '.join([mark] * len(LATEST_COLUMNS))}) "
            f'ON CONFLICT (run_uuid, "key") DO UPDATE SET {updates} '
            f'WHERE (excluded.step, excluded."timestamp", excluded.value) > '
            f'(latest_metrics.step, latest_metrics."timestamp", latest_metrics.value)'
        )
        self._good_keys: set[str] = set()

    def try_write(self, run_id: str, metric: Metric) -> bool:
        """Write ``metric`` and return True, or write nothing and return False."""
        if not self.enabled or not self._plain(metric):
            return False
        value = metric.value
        try:
            if value != value or value in (_INF, _NINF):
                value, kind = encode_value(value)
            else:
                value, kind = float(value), FINITE
        except OverflowError:  # an int too large for a double: log_batch says so
            return False
        run_id = str(run_id)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                if self.begin:
                    cursor.execute(self.begin)
                cursor.execute(self.check_sql, (run_id,))
                row = cursor.fetchone()
                if row is None or row[0] != "active":
                    connection.rollback()
                    return False
                cursor.execute(self.insert_sql, (run_id, metric.key, metric.step,
                                                 metric.timestamp, batch_seq_base(), value,
                                                 kind))
                cursor.execute(self.latest_sql, (run_id, metric.key, metric.step,
                                                 metric.timestamp, value, kind, None, None,
                                                 None))
            finally:
                cursor.close()
            connection.commit()
            return True
        except Exception:  # noqa: BLE001 - the general path retries and reports it
            try:
                connection.rollback()
            except Exception:  # noqa: BLE001 - a broken connection is dropped below
                connection.invalidate()
            return False
        finally:
            connection.close()

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
