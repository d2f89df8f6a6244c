"""Each run's params and tags, also kept together as one JSON text in ``runs.params_tags``.

Why: a page of 1,000 runs read its params and tags as two more queries of ~8,000 rows (an
index range per run in each table, each row parsed by the driver): a third of a search
page. With the document the page's own rows carry them, parsed by one ``json.loads`` a run.
The ``params`` and ``tags`` tables stay the truth for filters and ordering.

The rules that keep the two in step:
- ``create_run`` writes the document with the new row. Every later write of a run's params
  or tags (``log_batch``, ``set_tag``, ``delete_tag``, a rename) first locks the run's row
  (``SELECT ... FOR UPDATE``; SQLite's write transactions are exclusive anyway), then
  changes the tables and rewrites the document from the one it locked, in the same
  transaction.
- NULL means "read the tables": a document that would pass ``MAX_CHARS`` is stored as NULL
  (a run with thousands of long tags would otherwise rewrite megabytes per tag) and stays
  NULL, so readers of such a run fall back to the two queries.

Form: ``{"params": [[key, value], ...], "tags": [[key, value], ...]}``, keys sorted.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from skiff.search.ast import PARAM
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import DOCUMENT_MAX_CHARS, document_text

MAX_CHARS = DOCUMENT_MAX_CHARS
COLUMN = "params_tags"
# position of the document in a row of the runs table (rows are read by position)
INDEX = [c.key for c in t.runs.c].index(COLUMN)


def encode(params: dict, tags: dict) -> str | None:
    """The document of a run with these params and tags, or None when it is too long."""
    return document_text({"params": sorted(params.items()), "tags": sorted(tags.items())})


def decode(text: str) -> tuple[list, list]:
    """(params, tags) of a document, each a list of [key, value] pairs."""
    doc = json.loads(text)
    return doc["params"], doc["tags"]


def holds(entity: str, key: str, value: str):
    """``runs.params_tags LIKE ...``: true when the run's document has the pair (key,
    value) among its params (``entity`` PARAM) or else its tags, exactly; NULL for a run
    without a document (the caller adds the tables' check for those).

    Exact because of JSON's form: a raw ``"`` never occurs inside a string, so ``[`` then
    the key's quoted JSON can only be the start of a pair, and ``],"tags":[`` only the one
    boundary between the two lists. The pair is JSON-encoded as ``encode`` writes it, then
    escaped for LIKE. A search filtered on a param reads it from the run's row it checks
    anyway, instead of probing the params table for each candidate run."""
    pair = json.dumps([key, value], ensure_ascii=False, separators=(",", ":"))
    pair = pair.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if entity == PARAM:
        pattern = '{"params":[%' + pair + '%],"tags":[%'
    else:
        pattern = '{"params":[%],"tags":[%' + pair + "%"
    return t.runs.c[COLUMN].like(pattern, escape="\\")


def lock_run(conn, run_id: str):
    """The run's row (all columns), locked against other writers until the transaction
    ends; None when there is no such run."""
    runs = t.runs
    return conn.execute(
        sa.select(runs).where(runs.c.run_uuid == str(run_id)).with_for_update()).first()


def rewrite(conn, row, params: dict | None = None, tags: dict | None = None,
            deleted_tags: tuple = ()) -> None:
    """Store the document of ``row`` (locked by ``lock_run``) with ``params`` and ``tags``
    set and ``deleted_tags`` removed; a NULL document stays NULL."""
    text = row[INDEX]
    if text is None:
        return
    old_params, old_tags = decode(text)
    new_params, new_tags = dict(old_params), dict(old_tags)
    new_params.update(params or {})
    new_tags.update(tags or {})
    for key in deleted_tags:
        new_tags.pop(key, None)
    runs = t.runs
    conn.execute(runs.update().where(runs.c.run_uuid == row[0])
                 .values({COLUMN: encode(new_params, new_tags)}))


def backfill(conn, chunk: int = 1000) -> None:
    """Write the document of every run from its params and tags (the migration that adds
    the column: runs logged before it)."""
    runs, pt, tt = t.runs, t.params, t.tags
    ids = [row[0] for row in conn.execute(sa.select(runs.c.run_uuid).order_by(runs.c.run_uuid))]
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        found: dict[str, tuple[dict, dict]] = {run_id: ({}, {}) for run_id in part}
        for index, table in ((0, pt), (1, tt)):
            for run_id, key, value in conn.execute(
                    sa.select(table.c.run_uuid, table.c.key, table.c.value)
                    .where(table.c.run_uuid.in_(part))):
                found[run_id][index][key] = value
        conn.execute(
            runs.update().where(runs.c.run_uuid == sa.bindparam("_id"))
            .values({COLUMN: sa.bindparam("_doc")}),
            [{"_id": run_id, "_doc": encode(p, tg)} for run_id, (p, tg) in found.items()])
