"""Registry searches compiled into SQL from the parsed filters
(``skiff.search.parser.parse_registered_model_filter`` / ``parse_model_version_filter``).

Values and tag keys are bound parameters. Tag clauses are correlated EXISTS probes on the
tag tables' primary keys (name, [version,] key), so a filtered search walks the models in
the requested order and stops after one page; the prompt exclusion is a NOT IN over the
prompt-tagged keys (key-first indexes of revision 0004). Paging is ``_search.paged``
(keyset tokens, offset tokens accepted, with a seek bound on the first key). Statements
are parsed, compiled and paged once per (filter, order_by) (``_page_statements``).
"""

from __future__ import annotations

import functools

import sqlalchemy as sa

from skiff.search.ast import ATTRIBUTE, TAG, Comparison, OrderBy
from skiff_stores_sql import _version_walk
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import invalid
from skiff_stores_sql._page_statements import PageStatements
from skiff_stores_sql._search import SortKey, apply_comparator

PROMPT_TAG = "mlflow.prompt.is_prompt"

REGISTERED_MODEL_ATTRIBUTES = {
    "name": t.registered_models.c.name,
    "creation_timestamp": t.registered_models.c.creation_timestamp,
    "last_updated_timestamp": t.registered_models.c.last_updated_timestamp,
}

MODEL_VERSION_ATTRIBUTES = {
    "name": t.model_versions.c.name,
    "run_id": t.model_versions.c.run_id,
    "source_path": t.model_versions.c.source,
    "version_number": t.model_versions.c.version,
    "creation_timestamp": t.model_versions.c.creation_timestamp,
    "last_updated_timestamp": t.model_versions.c.last_updated_timestamp,
}


def hides_prompts(filter_string: str | None) -> bool:
    """Prompts live in the registry too; like MLflow, searches skip them unless asked."""
    return PROMPT_TAG not in (filter_string or "")


def _model_tag_exists(key: str, comparison: Comparison | None = None):
    tags, models = t.registered_model_tags, t.registered_models
    cond = [tags.c.name == models.c.name, tags.c.key == key]
    if comparison is not None:
        cond.append(apply_comparator(tags.c.value, comparison.comparator, comparison.value))
    return sa.select(sa.literal(1)).select_from(tags).where(*cond).exists()


def _version_tag_exists(key: str, comparison: Comparison | None = None):
    tags, versions = t.model_version_tags, t.model_versions
    cond = [tags.c.name == versions.c.name, tags.c.version == versions.c.version,
            tags.c.key == key]
    if comparison is not None:
        cond.append(apply_comparator(tags.c.value, comparison.comparator, comparison.value))
    return sa.select(sa.literal(1)).select_from(tags).where(*cond).exists()


def _tag_clause(comp: Comparison, exists):
    if comp.comparator == "IS NULL":
        return ~exists(comp.key)
    if comp.comparator == "IS NOT NULL":
        return exists(comp.key)
    return exists(comp.key, comp)


# The prompt tag and its value written into the SQL (constants, not input): a prepared
# statement's generic plan, not knowing bound ones, scanned the whole tag table for them
# (2.6 ms a page) instead of looking the key up in its index.
_PROMPT_KEY = sa.literal_column(f"'{PROMPT_TAG}'")
_TRUE = sa.literal_column("'true'")


def _not_a_prompt(tags, keys: tuple):
    """Rows whose ``keys`` are not among the prompt-tagged ones. A NOT IN over that short
    list is built once per statement (key index); a NOT EXISTS probe on every candidate
    row cost SQLite a third of a filtered version search. The tag tables' key columns are
    NOT NULL, so NOT IN has no NULL surprises."""
    prompts = sa.select(*(tags.c[k.key] for k in keys)).where(
        tags.c.key == _PROMPT_KEY, tags.c.value == _TRUE)
    return sa.tuple_(*keys).not_in(prompts)


def _sort_keys(order_bys: list[OrderBy], columns: dict, defaults, kind: str) -> list[SortKey]:
    keys, seen = [], set()
    for order in order_bys:
        column = columns.get(order.key)
        if order.entity != ATTRIBUTE or column is None or order.key in (
                "run_id", "source_path"):
            raise invalid(f"Invalid order_by clause for {kind}: {order.key!r}")
        if order.key in seen:
            continue
        seen.add(order.key)
        keys.append(SortKey(column, order.ascending))
    for key, ascending in defaults:
        if key not in seen:
            seen.add(key)
            keys.append(SortKey(columns[key], ascending))
    return keys


def compile_registered_model_search(comparisons: list[Comparison], order_bys: list[OrderBy],
                                    hide_prompts: bool):
    """(select of registered_models columns, sort keys); ``name`` ends every order."""
    models = t.registered_models
    where = []
    for comp in comparisons:
        if comp.entity == ATTRIBUTE and comp.key == "name":
            where.append(apply_comparator(models.c.name, comp.comparator, comp.value))
        elif comp.entity == TAG:
            where.append(_tag_clause(comp, _model_tag_exists))
        else:
            raise invalid(f"Invalid filter for registered models: {comp.entity} {comp.key!r}")
    if hide_prompts:
        where.append(_not_a_prompt(t.registered_model_tags, (models.c.name,)))
    keys = _sort_keys(order_bys, REGISTERED_MODEL_ATTRIBUTES, (("name", True),),
                      "registered models")
    return sa.select(*models.c).where(*where), keys


def _version_value(comp: Comparison):
    """Version numbers compare as integers (MLflow accepts '3' in quotes too)."""
    def number(value):
        try:
            return int(str(value))
        except ValueError:
            raise invalid(f"Invalid version number {value!r}") from None

    if comp.comparator in ("IN", "NOT IN"):
        return [number(v) for v in comp.value]
    return number(comp.value)


def _name_comparison(comp: Comparison):
    return apply_comparator(t.model_versions.c.name, comp.comparator, comp.value)


def model_version_where(comparisons: list[Comparison], hide_prompts: bool,
                        name_clause=_name_comparison) -> list:
    """The WHERE clauses of a version search; ``name_clause(comparison)`` compiles the
    comparisons on ``name``."""
    versions = t.model_versions
    where = []
    for comp in comparisons:
        if comp.entity == ATTRIBUTE and comp.key == "name":
            where.append(name_clause(comp))
        elif comp.entity == ATTRIBUTE and comp.key in MODEL_VERSION_ATTRIBUTES:
            column = MODEL_VERSION_ATTRIBUTES[comp.key]
            value = _version_value(comp) if comp.key == "version_number" else comp.value
            where.append(apply_comparator(column, comp.comparator, value))
        elif comp.entity == TAG:
            where.append(_tag_clause(comp, _version_tag_exists))
        else:
            raise invalid(f"Invalid filter for model versions: {comp.entity} {comp.key!r}")
    if hide_prompts:
        where.append(_not_a_prompt(t.model_version_tags,
                                   (versions.c.name, versions.c.version)))
    return where


def compile_model_version_search(comparisons: list[Comparison], order_bys: list[OrderBy],
                                 hide_prompts: bool):
    """(select of model_versions columns, sort keys)."""
    versions = t.model_versions
    where = model_version_where(comparisons, hide_prompts)
    # MLflow's orders: without order_by, newest change first; with one, ties broken by
    # name ASC then version DESC only (which is unique, so keyset paging is exact).
    defaults = (("name", True), ("version_number", False))
    if not order_bys:
        defaults = (("last_updated_timestamp", False), *defaults)
    keys = _sort_keys(order_bys, MODEL_VERSION_ATTRIBUTES, defaults, "model versions")
    return sa.select(*versions.c).where(*where), keys


# -- parsed and compiled once per (filter, order_by) -------------------------------------


def _order_key(order_by):
    """A hashable form of ``order_by`` (None when it has none: compile it uncached)."""
    if order_by is None or isinstance(order_by, str):
        return order_by
    try:
        key = tuple(order_by)
        hash(key)
        return key
    except TypeError:
        return None


def _as_given(order_key):
    return list(order_key) if isinstance(order_key, tuple) else order_key


@functools.lru_cache(maxsize=256)
def _registered_model_search(filter_string, order_key):
    from skiff.search.parser import parse_registered_model_filter, parse_registered_model_order_by

    comparisons = parse_registered_model_filter(filter_string)
    return PageStatements(*compile_registered_model_search(
        comparisons, parse_registered_model_order_by(_as_given(order_key)),
        hides_prompts(filter_string)), unfiltered=not comparisons)


@functools.lru_cache(maxsize=256)
def _model_version_search(filter_string, order_key):
    from skiff.search.parser import parse_model_version_filter, parse_model_version_order_by

    comparisons = parse_model_version_filter(filter_string)
    hide_prompts = hides_prompts(filter_string)
    plain = PageStatements(*compile_model_version_search(
        comparisons, parse_model_version_order_by(_as_given(order_key)), hide_prompts),
        unfiltered=not comparisons)
    if not _version_walk.applies(plain.keys, comparisons):
        return plain
    return _version_walk.VersionWalk(plain, comparisons, model_version_where(
        comparisons, hide_prompts, _version_walk.name_clause))


def _cached(compile_fn, filter_string, order_by):
    key = _order_key(order_by)
    if (key is None and order_by) or not isinstance(filter_string, (str, type(None))):
        return compile_fn.__wrapped__(filter_string, order_by)
    return compile_fn(filter_string, key)


def registered_model_search(filter_string, order_by) -> PageStatements:
    """The page statements of a registered-model search; statements are immutable, so
    repeated searches (the pages of one listing, a UI's polling) share them."""
    return _cached(_registered_model_search, filter_string, order_by)


def model_version_search(filter_string, order_by):
    """The page statements of a model-version search (see above; ``_version_walk`` for
    name-prefix searches)."""
    return _cached(_model_version_search, filter_string, order_by)
