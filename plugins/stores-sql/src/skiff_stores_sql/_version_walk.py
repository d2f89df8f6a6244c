"""Model versions filtered by a name prefix and ordered by last update (MLflow's default
order for versions), on SQLite.

SQLite answers ``name LIKE 'fraud-%'`` from the primary key's name range and sorts every
version in that range, whole rows, before the first one comes out: ~0.9 ms for a range of
2,500 versions. When the range is wide, walking the last-update index (its entries carry
name and version) until a page of matches is found, then reading just those rows, takes a
third of that. When it is narrow, sorting it is far cheaper than a walk that may cover the
whole index (~1 ms per 20,000 versions). A count of the range, capped at ``WIDE``, chooses
for each page. Other backends plan this themselves and run the plain statements.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from skiff.search.ast import ATTRIBUTE, Comparison
from skiff_stores_sql import schema as t
from skiff_stores_sql._in_lists import driver_rows
from skiff_stores_sql._page_statements import PageStatements, _driver_sql
from skiff_stores_sql._search import SortKey, apply_comparator
from skiff_stores_sql.engine import PLAN_EACH_TIME

# Measured at 20,000 versions: a range of ~270 sorts in half the walk's time, one of
# ~2,500 in three times it.
WIDE = 1000


def like_prefix(pattern) -> str | None:
    """The literal text of a LIKE pattern (escape ``\\``) that is that text and one
    trailing ``%``; None for any other pattern."""
    if not isinstance(pattern, str) or not pattern.endswith("%"):
        return None
    text, escaped = [], False
    for char in pattern[:-1]:
        if escaped:
            text.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "%_":
            return None
        else:
            text.append(char)
    return "".join(text) if text and not escaped else None


def _successor(text: str) -> str | None:
    """The least string above every string that starts with ``text`` (code point order,
    which is SQLite's BINARY order for UTF-8), or None where the next code point is not a
    character."""
    following = ord(text[-1]) + 1
    if following > 0x10FFFF or 0xD800 <= following <= 0xDFFF:
        return None
    return text[:-1] + chr(following)


def _unindexed(column):
    """``+column``: the same value, which SQLite will not look up through an index, so
    the walk's planner keeps to the last-update index."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def name_clause(comp: Comparison):
    """A name comparison as the walk tests it on each index entry: a prefix LIKE as the
    range it spells (the LIKE function costs ~0.3 us an entry); any other as it is."""
    name = _unindexed(t.model_versions.c.name)
    if comp.comparator == "LIKE":
        text = like_prefix(comp.value)
        upper = _successor(text) if text else None
        if upper is not None:
            return sa.and_(name >= text, name < upper)
    return apply_comparator(name, comp.comparator, comp.value)


def _is_prefix_filter(comp: Comparison) -> bool:
    return (comp.entity == ATTRIBUTE and comp.key == "name" and comp.comparator == "LIKE"
            and like_prefix(comp.value) is not None)


def applies(keys: list[SortKey], comparisons: list[Comparison]) -> bool:
    """Whether a version search in the order of ``keys`` with these filters can walk: a
    name prefix, ordered by last update first."""
    return keys[0].expr is t.model_versions.c.last_updated_timestamp and any(
        _is_prefix_filter(c) for c in comparisons)


def _join_back(keys: list[SortKey]):
    """The paged walk (names, versions and sort values of one page) joined back to the
    rows it found, in the same order: the table's columns, then the sort values."""
    def wrap(paged: sa.Select) -> sa.Select:
        found = paged.subquery("found")
        row = t.model_versions.alias("mv")
        sorts = [found.c[f"_sort{i}"] for i in range(len(keys))]
        return (sa.select(*row.c, *sorts)
                .join_from(row, found, sa.and_(row.c.name == found.c.name,
                                               row.c.version == found.c.version))
                .order_by(*(s.asc() if k.ascending else s.desc() for s, k in zip(sorts, keys)))
                .execution_options(**{PLAN_EACH_TIME: True}))
    return wrap


class VersionWalk:
    """The page statements of one version search (``applies``) with a walk beside the
    plain ones. ``walk_where``: the search's WHERE clauses with its name comparisons
    compiled by ``name_clause``."""

    def __init__(self, plain: PageStatements, comparisons: list[Comparison], walk_where):
        versions = t.model_versions
        self.plain = plain
        self.walk = PageStatements(sa.select(versions.c.name, versions.c.version)
                                   .where(*walk_where), plain.keys, _join_back(plain.keys))
        in_range = sa.select(versions.c.name).where(*(
            apply_comparator(versions.c.name, c.comparator, c.value)
            for c in comparisons if _is_prefix_filter(c))).limit(WIDE).subquery()
        self._width = sa.select(sa.func.count()).select_from(in_range)
        self._width_sql = None  # rendered for SQLite on first use

    def rows(self, conn, page_token, max_results: int):
        if conn.dialect.name == "sqlite" and self._range_width(conn) >= WIDE:
            return self.walk.rows(conn, page_token, max_results)
        return self.plain.rows(conn, page_token, max_results)

    def _range_width(self, conn) -> int:
        if self._width_sql is None:
            self._width_sql = _driver_sql(self._width, conn.dialect)
        sql, arguments = self._width_sql
        return driver_rows(conn, sql, arguments({}))[0][0]
