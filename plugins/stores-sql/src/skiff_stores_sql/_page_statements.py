"""Page statements of a search that is run many times (a registry listing, a UI's
polling): built once per page size and token kind, rendered to driver SQL once per
dialect, run with only their parameters changing."""

from __future__ import annotations

import sqlalchemy as sa

from skiff_stores_sql._in_lists import driver_rows
from skiff_stores_sql._search import SortKey, _decode, _page, split_page
from skiff_stores_sql.engine import PLAN_EACH_TIME, PREPARE_AT_ONCE

_PLAN_EACH_TIME = {PLAN_EACH_TIME: True}  # as _search._page's statements: seek values matter
_PREPARE_AT_ONCE = {PREPARE_AT_ONCE: True}

# bound values that the drivers take as they are (no SQLAlchemy bind processing)
_PLAIN_BINDS = (sa.String, sa.Integer)


class PageStatements:
    """``_search.paged`` for one (filter, order): the first page's statement and the
    after-a-token one, with the token's sort values as bound parameters, are built once
    per page size and reused. Building and keying a statement anew costs ~0.3 ms, a tenth
    of a 100-row registry page."""

    def __init__(self, stmt: sa.Select, keys: list[SortKey], wrap=None, unfiltered=False):
        """``wrap``, if given, turns each paged statement into the one run (it must keep
        the row layout: the table's columns, then the sort values). ``unfiltered``: the
        statement filters on nothing the caller gave, so on PostgreSQL it is prepared
        (planned once, not per page; see ``rows``)."""
        self.stmt, self.keys, self._wrap = stmt, keys, wrap or (lambda paged: paged)
        self._options = _PREPARE_AT_ONCE if unfiltered else _PLAN_EACH_TIME
        self._built: dict[tuple, sa.Select] = {}
        self._rendered: dict[tuple, tuple | None] = {}

    def rows(self, conn, page_token: str | None, max_results: int):
        """(the page's rows as tuples, the next page's token or None). A built statement
        runs as driver SQL rendered once per dialect: SQLAlchemy's execution and row
        layers cost ~0.15 ms of a ~0.8 ms 100-row registry page on PostgreSQL.

        Filtered pages are planned for their values each time: a generic plan for
        ``name LIKE $1`` could not tell a broad pattern from a narrow one. An unfiltered
        listing has one good plan, an ordered walk of the order's index whatever the
        token's values, and preparing it saves planning every page (~0.05 ms)."""
        stmt, params, built = self._page(page_token, max_results)
        n_keys = len(self.keys)
        rendered = None
        if built is not None:
            key = (*built, conn.dialect.name, conn.dialect.driver)
            if key not in self._rendered:
                self._rendered[key] = _driver_sql(stmt, conn.dialect)
            rendered = self._rendered[key]
        if rendered is None:
            return split_page(conn.execute(stmt, params).all(), max_results, n_keys)
        sql, arguments = rendered
        return split_page(driver_rows(conn, sql, arguments(params), self._options),
                          max_results, n_keys)

    def _page(self, page_token, max_results: int):
        """(statement, parameters, its key in ``_built``, or None when built anew)."""
        kind, value = _decode(page_token, self.keys)
        if kind == "offset" or (kind == "after" and None in value):  # rare: built anew
            return self._wrap(_page(self.stmt, self.keys, kind, value, max_results)), {}, None
        built = (max_results, kind)
        stmt = self._built.get(built)
        if stmt is None:
            if len(self._built) >= 32:  # page sizes are the caller's choice: stay small
                self._built.clear()
                self._rendered.clear()
            bound = [sa.bindparam(f"_after{i}", type_=key.expr.type)
                     for i, key in enumerate(self.keys)] if kind == "after" else None
            stmt = self._built[built] = self._wrap(
                _page(self.stmt, self.keys, kind, bound, max_results))
        params = {f"_after{i}": v for i, v in enumerate(value)} if kind == "after" else {}
        return stmt, params, built


def _driver_sql(stmt: sa.Select, dialect):
    """(SQL text, function of the parameters to the driver's arguments) of ``stmt``, or
    None where it needs SQLAlchemy's own execution (lists rendered per call, values that
    SQLAlchemy converts, a paramstyle other than SQLite's and psycopg's)."""
    compiled = stmt.compile(dialect=dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql or not all(
            isinstance(bind.type, _PLAIN_BINDS) for bind in compiled.binds.values()):
        return None
    if dialect.paramstyle == "qmark":
        names = compiled.positiontup
        return sql, lambda params: tuple(compiled.construct_params(params)[n] for n in names)
    if dialect.paramstyle == "pyformat" and dialect.driver == "psycopg":
        return sql, compiled.construct_params
    return None
