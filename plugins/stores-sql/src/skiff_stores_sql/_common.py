"""Small helpers shared by the store modules: time, metric value encoding, errors, pausing
the garbage collector while a large result is built."""

from __future__ import annotations

import contextlib
import gc
import json
import math
import random
import sys
import time

from skiff.entities import Metric
from skiff.errors import SkiffException

FINITE, NAN, POS_INF, NEG_INF = 0, 1, 2, 3
_MAX = sys.float_info.max


def now_ms() -> int:
    return int(time.time() * 1000)


def encode_value(value) -> tuple[float, int]:
    """A metric value as (value column, value_kind column)."""
    value = float(value)
    if math.isnan(value):
        return 0.0, NAN
    if math.isinf(value):
        return (_MAX, POS_INF) if value > 0 else (-_MAX, NEG_INF)
    return value, FINITE


def decode_value(value: float, kind: int) -> float:
    if kind == FINITE:
        return value
    if kind == NAN:
        return math.nan
    return math.inf if kind == POS_INF else -math.inf


def batch_seq_base() -> int:
    """High bits of ``metrics.seq`` for one batch: random, so points logged by separate
    calls never collide; the low 10 bits carry the position in the batch (<= 1000)."""
    return random.getrandbits(52) << 10


# Columns of the metrics table in the order of ``metric_rows_of``'s tuples.
METRIC_COLUMNS = ("run_uuid", "key", "step", "timestamp", "seq", "value", "value_kind",
                  "dataset_name", "dataset_digest", "model_id")
_INF, _NINF = float("inf"), float("-inf")


def metric_rows_of(run_id: str, metrics: list) -> list[tuple]:
    """A batch's points as metrics rows (``METRIC_COLUMNS``), values encoded, ``seq`` from
    one ``batch_seq_base`` and the position in the batch."""
    seq_base = batch_seq_base()
    rows = []
    append = rows.append
    for i, m in enumerate(metrics):
        value = m.value
        if value != value or value in (_INF, _NINF):  # NaN, +inf, -inf
            value, kind = encode_value(value)
        else:
            value, kind = float(value), FINITE
        append((run_id, m.key, int(m.step), int(m.timestamp), seq_base | i, value, kind,
                m.dataset_name, m.dataset_digest, m.model_id))
    return rows


def latest_per_key(rows: list[tuple]) -> list[tuple]:
    """The newest point of each key among metrics rows, by (step, timestamp, value), as
    tuples in ``_dialect.LATEST_COLUMNS`` order."""
    best: dict[str, tuple] = {}
    for row in rows:
        current = best.get(row[1])
        if current is None or (row[2], row[3], row[5]) > (current[2], current[3], current[5]):
            best[row[1]] = row
    return [row[:4] + row[5:] for row in best.values()]


def metric_columns(table) -> tuple:
    """The columns ``metrics_from_rows`` expects, in its order."""
    c = table.c
    return (c.key, c.value, c.value_kind, c.timestamp, c.step, c.dataset_name,
            c.dataset_digest, c.model_id)


def metrics_from_rows(rows, run_id: str | None = None) -> list[Metric]:
    """Metrics from rows selected with ``metric_columns`` first (tuple unpacking: a long
    history is mostly this loop)."""
    out = []
    append = out.append
    for row in rows:
        value = row[1] if not row[2] else decode_value(row[1], row[2])
        append(Metric(row[0], value, row[3], row[4], row[5], row[6], row[7], run_id))
    return out


# A row's JSON document (``_params_tags``, ``_registry_docs``) past this is stored as NULL,
# which tells readers to read the tables: a run or model with thousands of long tags would
# otherwise rewrite megabytes per tag.
DOCUMENT_MAX_CHARS = 65_536


def document_text(doc) -> str | None:
    """``doc`` as a row document's compact JSON text, keys sorted, or None when longer
    than ``DOCUMENT_MAX_CHARS``."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= DOCUMENT_MAX_CHARS else None


def not_found(message: str) -> SkiffException:
    return SkiffException(message, "RESOURCE_DOES_NOT_EXIST")


def invalid(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


def experiment_id_int(experiment_id) -> int | None:
    """Experiment IDs are integers in this store; anything else names no experiment."""
    try:
        number = int(str(experiment_id))
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**31 else None


@contextlib.contextmanager
def gc_paused():
    """A page of runs or of a metric history is tens of thousands of small acyclic objects;
    the cyclic collector would walk the whole heap several times while they are built (a
    third of the time of paging through 1M points). Pause it meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
