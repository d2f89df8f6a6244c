"""Searches compiled into SQL from the parsed filter (``skiff.search.parser``), and keyset
page tokens.

Every value from a filter reaches the database as a bound parameter; keys become bound
parameters too (``latest_metrics.key = :key``), never SQL text.

Paging is keyset: a page is ordered by a list of never-NULL sort expressions ending in a
unique column, and the next page's token carries the sort values of the page's last row
(base64 JSON ``{"after": [...]}``), so page N costs the same as page 1. Tokens of the form
``{"offset": N}`` (what MLflow's stores hand out) are accepted too.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from skiff.search.ast import ATTRIBUTE, DATASET, METRIC, PARAM, TAG, Comparison, OrderBy
from skiff.search.paging import decode_token, encode_token
from skiff_stores_sql import _params_tags
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import NAN, encode_value, experiment_id_int, invalid
from skiff_stores_sql.engine import PLAN_EACH_TIME

DATASET_CONTEXT_TAG = "mlflow.data.context"

RUN_ATTRIBUTES = {
    "run_id": t.runs.c.run_uuid,
    "run_name": t.runs.c.name,
    "status": t.runs.c.status,
    "user_id": t.runs.c.user_id,
    "artifact_uri": t.runs.c.artifact_uri,
    "start_time": t.runs.c.start_time,
    "end_time": t.runs.c.end_time,
}
# Skiff's order_by-only attribute (see skiff.search.grammars).
RUN_ORDER_ONLY_ATTRIBUTES = {"duration": t.runs.c.end_time - t.runs.c.start_time}
# Run columns that may hold NULL (sorted last through a "missing" flag).
_NULLABLE_RUN_ATTRIBUTES = {"end_time", "duration"}

EXPERIMENT_ATTRIBUTES = {
    "name": t.experiments.c.name,
    "experiment_id": t.experiments.c.experiment_id,
    "creation_time": t.experiments.c.creation_time,
    "last_update_time": t.experiments.c.last_update_time,
}


@attrs.define
class SortKey:
    expr: object
    ascending: bool = True


def apply_comparator(col, comparator: str, value):
    """``col <comparator> :value`` as a SQLAlchemy expression (value bound)."""
    if comparator == "=":
        return col == value
    if comparator == "!=":
        return col != value
    if comparator == ">":
        return col > value
    if comparator == ">=":
        return col >= value
    if comparator == "<":
        return col < value
    if comparator == "<=":
        return col <= value
    if comparator == "LIKE":
        return col.like(value, escape="\\")
    if comparator == "ILIKE":
        return col.ilike(value, escape="\\")
    if comparator == "IN":
        return col.in_(list(value))
    if comparator == "NOT IN":
        return col.not_in(list(value))
    if comparator == "IS NULL":
        return col.is_(None)
    if comparator == "IS NOT NULL":
        return col.is_not(None)
    raise invalid(f"Unsupported comparator {comparator!r}")


# -- keyset paging -----------------------------------------------------------------------


def _keyset_after(keys: list[SortKey], values: list) -> sa.ColumnElement:
    """Rows that come strictly after ``values`` in the order of ``keys``.

    The OR of ANDs alone makes SQLite (a multi-index OR) and PostgreSQL (a bitmap OR)
    collect and sort every row past the token: 0.4 s a page at 100k runs. It implies
    ``first >= value`` (``<=`` descending), so that plain range is added: the planner
    seeks the first key's index and stops after a page (10x faster); it drops nothing."""
    alternatives = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].expr == values[j] for j in range(i)]
        beyond = key.expr > values[i] if key.ascending else key.expr < values[i]
        alternatives.append(sa.and_(*equal_prefix, beyond))
    first, value = keys[0], values[0]
    if value is None:
        return sa.or_(*alternatives)
    seek = first.expr >= value if first.ascending else first.expr <= value
    return sa.and_(seek, sa.or_(*alternatives))


def _decode(page_token: str | None, keys: list[SortKey]) -> tuple[str, object]:
    """("first", None), ("after", sort values) or ("offset", N) for a page token."""
    payload = decode_token(page_token)
    if "after" in payload:
        values = payload["after"]
        if not isinstance(values, list) or len(values) != len(keys) or not all(
            v is None or isinstance(v, (int, float, str)) for v in values
        ):
            raise invalid(f"Invalid page token: {page_token!r}")
        return "after", values
    if "offset" in payload:
        offset = payload["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise invalid(f"Invalid page token: {page_token!r}")
        return "offset", offset
    if payload:
        raise invalid(f"Invalid page token: {page_token!r}")
    return "first", None


def _page(stmt: sa.Select, keys: list[SortKey], kind: str, value, max_results: int):
    """The page statement for a decoded token (``_decode``); ``after`` values may be bound
    parameters."""
    if kind == "after":
        stmt = stmt.where(_keyset_after(keys, value))
    elif kind == "offset" and value:
        stmt = stmt.offset(value)
    stmt = stmt.add_columns(*(key.expr.label(f"_sort{i}") for i, key in enumerate(keys)))
    stmt = stmt.order_by(*(k.expr.asc() if k.ascending else k.expr.desc() for k in keys))
    return stmt.limit(max_results + 1).execution_options(**{PLAN_EACH_TIME: True})


def paged(stmt: sa.Select, keys: list[SortKey], page_token: str | None, max_results: int):
    """Order, window and limit ``stmt`` (one extra row tells whether a next page exists).
    Returns (statement, number of sort columns added at the end of each row)."""
    return _page(stmt, keys, *_decode(page_token, keys), max_results), len(keys)


def split_page(rows: list, max_results: int, n_keys: int):
    """(rows of this page, next page token or None)."""
    if len(rows) <= max_results:
        return rows, None
    rows = rows[:max_results]
    last = rows[-1]
    values = [last[len(last) - n_keys + i] for i in range(n_keys)]
    return rows, encode_token({"after": [_json_value(v) for v in values]})


def _json_value(value):
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    return float(value)  # Decimal from some drivers


# -- runs ------------------------------------------------------------------------------


def _exists_kv(table, key: str, extra=None):
    runs = t.runs
    cond = [table.c.run_uuid == runs.c.run_uuid, table.c.key == key]
    if extra is not None:
        cond.append(extra)
    return sa.select(sa.literal(1)).select_from(table).where(*cond).exists()


def _dataset_clause(comparison: Comparison):
    runs = t.runs
    if comparison.key == "context":
        tags = t.dataset_input_tags
        return sa.select(sa.literal(1)).select_from(tags).where(
            tags.c.run_uuid == runs.c.run_uuid,
            tags.c.key == DATASET_CONTEXT_TAG,
            apply_comparator(tags.c.value, comparison.comparator, comparison.value),
        ).exists()
    if comparison.key not in ("name", "digest"):
        raise invalid(f"Invalid dataset key {comparison.key!r}")
    inputs, datasets = t.dataset_inputs, t.datasets
    return sa.select(sa.literal(1)).select_from(
        inputs.join(datasets, datasets.c.dataset_uuid == inputs.c.dataset_uuid)
    ).where(
        inputs.c.run_uuid == runs.c.run_uuid,
        apply_comparator(datasets.c[comparison.key], comparison.comparator, comparison.value),
    ).exists()


_KV_TABLES = {METRIC: t.latest_metrics, PARAM: t.params, TAG: t.tags}


def compile_run_search(experiment_ids: list[int], stages: list[str],
                       comparisons: list[Comparison], order_bys: list[OrderBy]):
    """(select of run columns, sort keys) for one search; paging is added by ``paged``."""
    runs = t.runs
    source = runs
    where = [runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages)]
    # (entity, key) -> an inner-joined alias whose row is known to exist (and not be NaN)
    joined: dict[tuple[str, str], object] = {}
    for i, comp in enumerate(comparisons):
        if comp.entity in _KV_TABLES:
            table = _KV_TABLES[comp.entity]
            if comp.comparator == "IS NULL":
                where.append(~_exists_kv(table, comp.key))
                continue
            if comp.comparator == "IS NOT NULL":
                where.append(_exists_kv(table, comp.key))
                continue
            if comp.entity != METRIC and comp.comparator == "=" and \
                    isinstance(comp.value, str):
                # from the run's params-and-tags document; the tables for runs without one
                where.append(sa.or_(
                    _params_tags.holds(comp.entity, comp.key, comp.value),
                    sa.and_(runs.c[_params_tags.COLUMN].is_(None),
                            _exists_kv(table, comp.key, table.c.value == comp.value))))
                continue
            alias = table.alias(f"f{i}")
            source = source.join(
                alias, sa.and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == comp.key)
            )
            if comp.entity == METRIC:
                value, _ = encode_value(comp.value)
                where.append(alias.c.value_kind != NAN)
                where.append(apply_comparator(alias.c.value, comp.comparator, value))
            else:
                where.append(apply_comparator(alias.c.value, comp.comparator, comp.value))
            joined.setdefault((comp.entity, comp.key), alias)
        elif comp.entity == ATTRIBUTE:
            column = RUN_ATTRIBUTES.get(comp.key)
            if column is None:
                raise invalid(f"Invalid attribute key {comp.key!r}")
            where.append(apply_comparator(column, comp.comparator, comp.value))
        elif comp.entity == DATASET:
            where.append(_dataset_clause(comp))
        else:
            raise invalid(f"Invalid search entity {comp.entity!r}")

    keys: list[SortKey] = []
    seen_attributes = set()
    for j, order in enumerate(order_bys):
        if order.entity in _KV_TABLES:
            alias = joined.get((order.entity, order.key))
            if alias is None:
                table = _KV_TABLES[order.entity]
                alias = table.alias(f"o{j}")
                source = source.outerjoin(
                    alias,
                    sa.and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == order.key),
                )
                missing = alias.c.run_uuid.is_(None)
                if order.entity == METRIC:
                    missing = sa.or_(missing, alias.c.value_kind == NAN)
                keys.append(SortKey(sa.case((missing, 1), else_=0)))
                default = 0.0 if order.entity == METRIC else ""
                keys.append(SortKey(sa.func.coalesce(alias.c.value, default), order.ascending))
            else:
                keys.append(SortKey(alias.c.value, order.ascending))
        elif order.entity == ATTRIBUTE:
            column = RUN_ATTRIBUTES.get(order.key)
            if column is None:
                column = RUN_ORDER_ONLY_ATTRIBUTES.get(order.key)
            if column is None:
                raise invalid(f"Invalid order_by attribute {order.key!r}")
            seen_attributes.add(order.key)
            if order.key in _NULLABLE_RUN_ATTRIBUTES:
                keys.append(SortKey(sa.case((column.is_(None), 1), else_=0)))
                keys.append(SortKey(sa.func.coalesce(column, 0), order.ascending))
            else:
                keys.append(SortKey(column, order.ascending))
        else:
            raise invalid(f"Invalid order_by entity {order.entity!r}")
    if "start_time" not in seen_attributes:
        keys.append(SortKey(runs.c.start_time, False))
    if "run_id" not in seen_attributes:
        keys.append(SortKey(runs.c.run_uuid, True))
    stmt = sa.select(*runs.c).select_from(source).where(*where)
    return stmt, keys


# -- experiments ------------------------------------------------------------------------


def _experiment_attribute_clause(comp: Comparison):
    column = EXPERIMENT_ATTRIBUTES.get(comp.key)
    if column is None:
        raise invalid(f"Invalid attribute key {comp.key!r}")
    if comp.key != "experiment_id":
        return apply_comparator(column, comp.comparator, comp.value)
    if comp.comparator in ("IN", "NOT IN"):
        numbers = [n for n in (experiment_id_int(v) for v in comp.value) if n is not None]
        return apply_comparator(column, comp.comparator, numbers)
    number = experiment_id_int(comp.value)
    if number is None:  # not an ID this store can hold
        return sa.false() if comp.comparator == "=" else sa.true()
    return apply_comparator(column, comp.comparator, number)


def compile_experiment_search(stages: list[str], comparisons: list[Comparison],
                              order_bys: list[OrderBy]):
    exps, exp_tags = t.experiments, t.experiment_tags
    where = [exps.c.lifecycle_stage.in_(stages)]
    for comp in comparisons:
        if comp.entity == ATTRIBUTE:
            where.append(_experiment_attribute_clause(comp))
        elif comp.entity == TAG:
            cond = [exp_tags.c.experiment_id == exps.c.experiment_id, exp_tags.c.key == comp.key]
            if comp.comparator not in ("IS NULL", "IS NOT NULL"):
                cond.append(apply_comparator(exp_tags.c.value, comp.comparator, comp.value))
            clause = sa.select(sa.literal(1)).select_from(exp_tags).where(*cond).exists()
            where.append(~clause if comp.comparator == "IS NULL" else clause)
        else:
            raise invalid(f"Invalid search entity {comp.entity!r} for experiments")
    keys, seen = [], set()
    for order in order_bys:
        column = EXPERIMENT_ATTRIBUTES.get(order.key)
        if order.entity != ATTRIBUTE or column is None:
            raise invalid(f"Invalid order_by clause for experiments: {order.key!r}")
        seen.add(order.key)
        keys.append(SortKey(column, order.ascending))
    if not order_bys:
        keys.append(SortKey(exps.c.creation_time, False))
    if "experiment_id" not in seen:
        keys.append(SortKey(exps.c.experiment_id, True))
    return sa.select(*exps.c).where(*where), keys
