"""SELECTs keyed by lists of values (``column IN (...)``) or of pairs (``(a, b) IN (...)``),
run as driver SQL rendered once per dialect and list sizes: SQLAlchemy renders an
expanding list anew on each execution, ~3 us a value, a third of a 1000-row page's time
otherwise."""

from __future__ import annotations

import re

from skiff_stores_sql.engine import PREPARE_AT_ONCE, prepare_choice

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_PREPARE_AT_ONCE = {PREPARE_AT_ONCE: True}
_IN_LIST = re.compile(r"IN \(__\[POSTCOMPILE_(\w+)\]\)")


class ExpandingSelect:
    """A SELECT whose only parameters are the expanding lists ``params`` (each may be used
    several times); those also named in ``pairs`` hold 2-tuples compared with two
    columns, ``sa.tuple_(a, b).in_(sa.bindparam(name, expanding=True))``.

    PostgreSQL gets ``= ANY(%s)``, one array parameter per list: one statement text for
    every list size (prepared once by psycopg; with psycopg each array travels once
    however often it is used, in binary), planned in a fraction of a long IN list's
    time. Other backends get IN lists padded to a power of two with their last value
    (harmless in an IN), so few sizes get cached; SQLite writes pairs as
    ``IN (VALUES (?, ?), ...)``. Pairs on PostgreSQL take SQLAlchemy's ordinary path:
    every array form of them measured slower there than selecting by the first column
    alone and dropping the rest."""

    def __init__(self, stmt, *params: str, pairs: tuple[str, ...] = ()):
        self.stmt = stmt
        self.params = params
        self.pairs = frozenset(pairs)
        self._rendered: dict[tuple, tuple | None] = {}

    def _style(self, dialect) -> str | None:
        if dialect.name != "postgresql":
            return "list"
        if self.pairs:
            return None
        return "named" if dialect.driver == "psycopg" else "array"

    def _in_clause(self, param: str, style: str, mark: str, size: int, dialect) -> str:
        if style == "named":
            return f"= ANY(%({param})b)"
        if style == "array":
            return f"= ANY({mark})"
        if param in self.pairs:
            rows = ", ".join([f"({mark}, {mark})"] * size)
            return f"IN (VALUES {rows})" if dialect.name == "sqlite" else f"IN ({rows})"
        return "IN (" + ", ".join([mark] * size) + ")"

    def _render(self, dialect, sizes: tuple):
        """(driver SQL, function of the lists to its parameters), or None."""
        compiled = self.stmt.compile(dialect=dialect)
        template, mark = str(compiled), _MARKS.get(dialect.paramstyle)
        style = self._style(dialect)
        pieces = _IN_LIST.split(template)
        uses = pieces[1::2]  # the list behind each IN, in the statement's order
        if (not mark or style is None or set(compiled.binds) != set(self.params)
                or set(uses) != set(self.params) or "POSTCOMPILE" in "".join(pieces[0::2])):
            return None
        size = dict(zip(self.params, sizes))
        for i in range(1, len(pieces), 2):
            pieces[i] = self._in_clause(pieces[i], style, mark, size[pieces[i]], dialect)
        return "".join(pieces), self._parameters(style, uses, size)

    def _parameters(self, style: str, uses: list, size: dict):
        params, pairs = self.params, self.pairs
        if style == "named":
            return lambda lists: {param: list(values) for param, values in zip(params, lists)}
        index = {param: i for i, param in enumerate(params)}
        if style == "array":
            return lambda lists: tuple(list(lists[index[use]]) for use in uses)

        def positional(lists):
            out = []
            for use in uses:
                values = list(lists[index[use]])
                values += [values[-1]] * (size[use] - len(values))
                if use in pairs:
                    for pair in values:
                        out.extend(pair)
                else:
                    out.extend(values)
            return tuple(out)
        return positional

    def rows(self, conn, *lists) -> list:
        """The rows (as tuples) for one non-empty list per parameter, in ``params`` order."""
        dialect = conn.dialect
        postgres = dialect.name == "postgresql"
        sizes = tuple(0 if postgres else 1 << max(len(values) - 1, 0).bit_length()
                      for values in lists)
        key = (dialect.name, dialect.driver, sizes)
        if key not in self._rendered:
            self._rendered[key] = self._render(dialect, sizes)
        rendered = self._rendered[key]
        if rendered is None:  # an unexpected paramstyle or rendering: the ordinary path
            return conn.execute(self.stmt, {
                param: [tuple(v) for v in values] if param in self.pairs else list(values)
                for param, values in zip(self.params, lists)}).all()
        sql, parameters = rendered
        # Its plan is the same for any list: PostgreSQL may keep one after five runs.
        options = _PREPARE_AT_ONCE if dialect.driver == "psycopg" else None
        return driver_rows(conn, sql, parameters(lists), options)


def driver_rows(conn, sql: str, parameters, options: dict | None = None) -> list:
    """The rows (tuples, as the driver returns them) of driver SQL run on ``conn``: past
    SQLAlchemy's row layer, through its execution (events, options, error handling).

    A read outside a transaction on psycopg (``engine.run_read``) runs on the driver's own
    cursor: SQLAlchemy's execution costs ~60 us of a ~0.5 ms registry page there. If the
    driver raises, the statement runs again through SQLAlchemy, which reports the error
    its way (and marks a dead connection for ``with_retry``): outside a transaction a
    failed statement leaves nothing behind."""
    dbapi = autocommit_psycopg(conn)
    if dbapi is not None:
        try:
            with dbapi.cursor() as cursor:
                cursor.execute(sql, parameters, prepare=prepare_choice(options))
                return cursor.fetchall()
        except Exception:  # noqa: BLE001 - reported by the run through SQLAlchemy below
            pass
    result = conn.exec_driver_sql(sql, parameters, execution_options=options)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def autocommit_psycopg(conn):
    """The psycopg connection under ``conn`` when it runs each statement on its own
    (autocommit, no SQL echo); else None."""
    if conn.dialect.driver != "psycopg" or conn.engine.echo:
        return None
    dbapi = conn.connection.dbapi_connection
    return dbapi if dbapi is not None and dbapi.autocommit else None
