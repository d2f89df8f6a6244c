"""A page's rows handed over while the database is still sending them.

A cold 1,000-run search page on PostgreSQL spends ~50 ms in the server (the walk reads a
few thousand pages) and ~25 ms in Python turning rows into runs; fetched whole, the two
add up. Streamed in chunks of ``CHUNK_ROWS`` rows (libpq's chunked mode, through
psycopg's ``Cursor.stream``), each chunk is turned into runs while the server produces the
next, on the other core: 81 -> 51 ms cold, 37 -> 21 ms warm (raw page, measured).
"""

from __future__ import annotations

import sqlalchemy as sa

from skiff_stores_sql._in_lists import autocommit_psycopg

CHUNK_ROWS = 20  # measured best of 20 and 100 on a 1,000-run page


def build_from_rows(conn, stmt: sa.Select, make_page):
    """``make_page()`` (an object with ``add(row)``) fed every row of ``stmt``, in order;
    the page that saw them all is returned.

    Outside a transaction on psycopg (``engine.run_read``) the rows are streamed from the
    driver's own cursor. If that fails at any point, the statement runs again through
    SQLAlchemy into a fresh page: SQLAlchemy reports the error its way and marks a dead
    connection for ``with_retry``; outside a transaction nothing is left behind."""
    dbapi = autocommit_psycopg(conn)
    rendered = _driver_sql(stmt, conn.dialect) if dbapi is not None else None
    if rendered is not None:
        page = make_page()
        try:
            with dbapi.cursor() as cursor:
                for row in cursor.stream(*rendered, size=CHUNK_ROWS):
                    page.add(row)
            return page
        except Exception:  # noqa: BLE001 - reported by the run through SQLAlchemy below
            pass
    page = make_page()
    for row in conn.execute(stmt).all():
        page.add(row)
    return page


def _driver_sql(stmt: sa.Select, dialect):
    """(SQL text, parameters) of ``stmt`` for the driver, lists expanded; None when a value
    needs SQLAlchemy's conversion on its way in."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    if compiled._bind_processors:  # noqa: SLF001 - SQLAlchemy would convert these values
        return None
    return str(compiled), compiled.construct_params()
