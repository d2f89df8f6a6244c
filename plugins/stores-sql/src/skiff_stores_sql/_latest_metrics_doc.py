"""Each run's latest metrics, also kept as one JSON text in ``runs.latest_metrics_doc``.

Why: a page of 1,000 runs read its latest metrics as one more query of ~5,000 rows, an
index probe and a table page per run. On a PostgreSQL server whose cache held other data
that was a third of the page (~2,000 pages read). With the document the page's own rows
carry them, as ``runs.params_tags`` carries params and tags. The ``latest_metrics`` table
stays the truth for filters and ordering.

The rules that keep the two in step:
- ``create_run`` writes an empty document with the new row.
- Every write to ``latest_metrics`` first locks the run's row (PostgreSQL and MySQL: ``FOR
  UPDATE``, or ``FOR NO KEY UPDATE`` in the one-statement writes; SQLite's write
  transactions are exclusive anyway), then, in the same transaction, sets the document's
  entries of the keys the table changed to what the table now holds: read back after the
  upsert (``refresh``), or on PostgreSQL's one-statement writes taken from the upsert's
  ``RETURNING``. The document never decides which point is newest; the table's merge does.
- NULL means "read the table": a document that would pass ``MAX_CHARS`` is stored as NULL
  (~1,500 metric keys) and stays NULL.

Form: ``{"key": [value, value_kind, timestamp, step], ...}`` with value and value_kind as
the table stores them (NaN and infinities encoded), the value as the text of its shortest
exact form (``repr``): PostgreSQL's jsonb would keep a number as a decimal, dropping the
sign of -0.0 and writing 1e16 as a whole number. A point with a dataset or model ID
appends ``dataset_name, dataset_digest, model_id``.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from skiff.entities import Metric
from skiff.entities._json import float_to_json
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import DOCUMENT_MAX_CHARS, decode_value, document_text

MAX_CHARS = DOCUMENT_MAX_CHARS
COLUMN = "latest_metrics_doc"
EMPTY = "{}"
# position of the document in a row of the runs table (rows are read by position)
INDEX = [c.key for c in t.runs.c].index(COLUMN)


def entry(value, kind, timestamp, step, dataset_name=None, dataset_digest=None,
          model_id=None) -> list:
    """A document entry for a latest_metrics row's columns."""
    value = repr(float(value))
    if dataset_name is None and dataset_digest is None and model_id is None:
        return [value, kind, timestamp, step]
    return [value, kind, timestamp, step, dataset_name, dataset_digest, model_id]


def decode(text: str, wanted=None) -> dict:
    """A document's entries by key; only keys in ``wanted`` if given."""
    doc = json.loads(text)
    if wanted is not None:
        doc = {key: e for key, e in doc.items() if key in wanted}
    return doc


def value_of(e: list) -> float:
    """The metric value of an entry (NaN and infinities decoded)."""
    return float(e[0]) if not e[1] else decode_value(float(e[0]), e[1])


def metrics(doc: dict) -> list[Metric]:
    """The Metric entities of a decoded document (straight from its entries: a page of
    1,000 runs holds ~5,000 of them)."""
    out = []
    append = out.append
    for key, e in doc.items():
        value = float(e[0]) if not e[1] else decode_value(float(e[0]), e[1])
        if len(e) == 4:
            append(Metric(key, value, e[2], e[3]))
        else:
            append(Metric(key, value, e[2], e[3], e[4], e[5], e[6]))
    return out


def metric_dicts(doc: dict) -> list[dict]:
    """``[m.to_dict() for m in metrics(doc)]``, written directly for the usual entry."""
    out = []
    append = out.append
    for key, e in doc.items():
        if len(e) == 4:
            value = float(e[0]) if not e[1] else float_to_json(decode_value(0.0, e[1]))
            append({"key": key, "value": value, "timestamp": e[2], "step": e[3]})
        else:
            append(Metric(key, value_of(e), e[2], e[3], e[4], e[5], e[6]).to_dict())
    return out


def refresh(conn, row, keys) -> None:
    """After an upsert of ``keys`` into ``latest_metrics`` for the run of ``row`` (its
    runs row, locked for this transaction), set those keys' entries to the table's rows."""
    text = row[INDEX]
    if text is None:
        return
    lm = t.latest_metrics
    doc = json.loads(text)
    for key, *columns in conn.execute(
            sa.select(lm.c.key, lm.c.value, lm.c.value_kind, lm.c.timestamp, lm.c.step,
                      lm.c.dataset_name, lm.c.dataset_digest, lm.c.model_id)
            .where(lm.c.run_uuid == row[0], lm.c.key.in_(list(keys)))):
        doc[key] = entry(*columns)
    write(conn, row[0], doc)


def write(conn, run_id: str, doc: dict) -> None:
    runs = t.runs
    conn.execute(runs.update().where(runs.c.run_uuid == run_id)
                 .values({COLUMN: document_text(doc)}))


def backfill(conn, chunk: int = 1000) -> None:
    """Write the document of every run from the latest_metrics table (the migration that
    adds the column: runs logged before it)."""
    runs, lm = t.runs, t.latest_metrics
    ids = [r[0] for r in conn.execute(sa.select(runs.c.run_uuid).order_by(runs.c.run_uuid))]
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        found: dict[str, dict] = {run_id: {} for run_id in part}
        for run_id, key, *columns in conn.execute(
                sa.select(lm.c.run_uuid, lm.c.key, lm.c.value, lm.c.value_kind,
                          lm.c.timestamp, lm.c.step, lm.c.dataset_name, lm.c.dataset_digest,
                          lm.c.model_id).where(lm.c.run_uuid.in_(part))):
            found[run_id][key] = entry(*columns)
        conn.execute(
            runs.update().where(runs.c.run_uuid == sa.bindparam("_id"))
            .values({COLUMN: sa.bindparam("_doc")}),
            [{"_id": run_id, "_doc": document_text(doc)} for run_id, doc in found.items()])
