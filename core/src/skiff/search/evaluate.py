"""Apply parsed filters and order-by clauses to entities in Python (the file store's search).

Each search kind supplies one small function, ``getter(entity, key)``, that returns an
accessor ``obj -> value`` (None when the object lacks the key). Filters and sort keys are
compiled once per call from those accessors, so filtering and sorting thousands of runs
stays cheap.

Semantics (as MLflow's stores behave):

* an object lacking a metric/param/tag/attribute never matches a comparison on it, except
  ``IS NULL``; NaN never satisfies a numeric comparison (``!=`` included);
* ``LIKE`` is case-sensitive with ``%`` and ``_`` wildcards (a backslash escapes them),
  ``ILIKE`` is case-insensitive; ``=``, ``!=`` and ``IN`` are case-sensitive;
* ``datasets.*`` clauses match when any of a run's dataset inputs satisfies them;
* sorting puts missing values (and NaN) last in both directions; each kind's default
  order breaks ties.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable

from skiff.errors import SkiffException
from skiff.search import grammars
from skiff.search.ast import ATTRIBUTE, DATASET, METRIC, PARAM, TAG, Comparison, OrderBy
from skiff.search.grammars import Grammar

__all__ = [
    "compile_filter",
    "filter_experiments",
    "filter_model_versions",
    "filter_registered_models",
    "filter_runs",
    "like_to_regex",
    "sort_experiments",
    "sort_model_versions",
    "sort_registered_models",
    "sort_runs",
]

Getter = Callable[[object], object]

DATASET_CONTEXT_TAG = "mlflow.data.context"

_NUMERIC_TESTS = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _unsupported(comparison: Comparison) -> SkiffException:
    return SkiffException.invalid_parameter_value(
        f"Unsupported comparator {comparison.comparator!r} for "
        f"{comparison.entity} {comparison.key!r}"
    )


def like_to_regex(pattern: str, case_sensitive: bool = True) -> re.Pattern:
    """A regex matching exactly what SQL ``LIKE pattern`` matches (``\\`` escapes)."""
    parts = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile("".join(parts), flags)


def _as_number(value):
    """``value`` as an int or float; None for NaN and anything not numeric."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _value_test(comparison: Comparison, numeric: bool) -> Callable[[object], bool]:
    """A test for a present (non-None) value."""
    comparator, expected = comparison.comparator, comparison.value
    if numeric:
        compare = _NUMERIC_TESTS.get(comparator)
        if compare is None:
            raise _unsupported(comparison)

        def numeric_test(value):
            number = _as_number(value)
            return number is not None and compare(number, expected)

        return numeric_test
    if comparator == "=":
        return lambda value: str(value) == expected
    if comparator == "!=":
        return lambda value: str(value) != expected
    if comparator in ("LIKE", "ILIKE"):
        match = like_to_regex(expected, comparator == "LIKE").fullmatch
        return lambda value: match(str(value)) is not None
    if comparator in ("IN", "NOT IN"):
        members = frozenset(expected)
        if comparator == "IN":
            return lambda value: str(value) in members
        return lambda value: str(value) not in members
    raise _unsupported(comparison)


def _is_numeric(comparison: Comparison, grammar: Grammar) -> bool:
    if comparison.entity == METRIC:
        return True
    if comparison.entity == ATTRIBUTE:
        field = grammar.attributes.get(comparison.key)
        return field is not None and field.value_type in (grammars.FLOAT, grammars.INTEGER)
    return False


def _compile_one(comparison: Comparison, getter, grammar: Grammar) -> Callable[[object], bool]:
    get = getter(comparison.entity, comparison.key)
    if comparison.comparator == "IS NULL":
        return lambda obj: get(obj) is None
    if comparison.comparator == "IS NOT NULL":
        return lambda obj: get(obj) is not None
    test = _value_test(comparison, _is_numeric(comparison, grammar))
    if comparison.entity == DATASET:
        # The getter returns the values of every dataset input; any one may match.
        return lambda obj: any(v is not None and test(v) for v in get(obj))

    def predicate(obj):
        value = get(obj)
        return value is not None and test(value)

    return predicate


def compile_filter(comparisons: Iterable[Comparison], getter, grammar: Grammar):
    """One predicate ``obj -> bool`` for the conjunction of ``comparisons``."""
    predicates = [_compile_one(c, getter, grammar) for c in comparisons]
    if not predicates:
        return lambda obj: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda obj: all(p(obj) for p in predicates)


def _sort_key_normalizer(entity: str, key: str, grammar: Grammar):
    """Map a present value to something orderable; None means "sort as missing"."""
    if (
        entity == METRIC
        or (
            entity == ATTRIBUTE
            and key in grammar.attributes
            and grammar.attributes[key].value_type in (grammars.FLOAT, grammars.INTEGER)
        )
        or key in ("creation_timestamp", "last_updated_timestamp")
    ):
        return _as_number
    if entity == ATTRIBUTE and key == "duration":
        return _as_number
    if entity == ATTRIBUTE and key == "experiment_id":
        # Numeric ids order as numbers, others after them as text.
        return lambda value: (0, int(value)) if str(value).isdigit() else (1, str(value))
    return str


def _sort(items, order_bys, getter, grammar: Grammar) -> list:
    seen = {(ob.entity, ob.key) for ob in order_bys}
    keys = list(order_bys) + [
        OrderBy(entity, key, ascending)
        for entity, key, ascending in grammar.default_order
        if (entity, key) not in seen
    ]
    result = list(items)
    # Stable sorts from the least significant key to the most significant one.
    for order_by in reversed(keys):
        get = getter(order_by.entity, order_by.key)
        normalize = _sort_key_normalizer(order_by.entity, order_by.key, grammar)
        present, missing = [], []
        for obj in result:
            raw = get(obj)
            value = None if raw is None else normalize(raw)
            if value is None:
                missing.append(obj)
            else:
                present.append((value, obj))
        present.sort(key=operator.itemgetter(0), reverse=not order_by.ascending)
        result = [obj for _, obj in present]
        result.extend(missing)
    return result


# ---------------------------------------------------------------- accessors


def _lookup(objs, key):
    """The value of the last entry named ``key`` in a list of key/value objects."""
    found = None
    for obj in objs:
        if obj.key == key:
            found = obj.value
    return found


def _key_values(container, list_name: str, dict_name: str, key):
    objs = getattr(container, list_name, None)
    if objs is not None:
        return _lookup(objs, key)
    return (getattr(container, dict_name, None) or {}).get(key)


def _dataset_value(dataset_input, key):
    if key == "context":
        return _lookup(dataset_input.tags or [], DATASET_CONTEXT_TAG)
    return getattr(dataset_input.dataset, key, None)


def _run_getter(entity: str, key: str) -> Getter:
    if entity == METRIC:
        return lambda run: _key_values(run.data, "metric_objs", "metrics", key)
    if entity == PARAM:
        return lambda run: _key_values(run.data, "param_objs", "params", key)
    if entity == TAG:
        return lambda run: _key_values(run.data, "tag_objs", "tags", key)
    if entity == DATASET:
        return lambda run: [
            _dataset_value(d, key) for d in (getattr(run.inputs, "dataset_inputs", None) or [])
        ]
    if key == "duration":
        return _run_duration
    return lambda run: getattr(run.info, key, None)


def _run_duration(run):
    start, end = run.info.start_time, run.info.end_time
    return None if start is None or end is None else end - start


def _tags_of(obj) -> dict:
    tags = getattr(obj, "tags", None)
    if tags is None:
        return {}
    if isinstance(tags, dict):
        return tags
    return {t.key: t.value for t in tags}


def _experiment_getter(entity: str, key: str) -> Getter:
    if entity == TAG:
        return lambda exp: _tags_of(exp).get(key)
    return lambda exp: getattr(exp, key, None)


# Model-version filter keys whose attribute has another name on the entity.
_MODEL_VERSION_ATTRIBUTES = {"source_path": "source", "version_number": "version"}


def _registry_getter(entity: str, key: str) -> Getter:
    if entity == TAG:
        return lambda obj: _tags_of(obj).get(key)
    name = _MODEL_VERSION_ATTRIBUTES.get(key, key)
    return lambda obj: getattr(obj, name, None)


# ---------------------------------------------------------------- per search kind


def filter_runs(runs, comparisons: Iterable[Comparison]) -> list:
    keep = compile_filter(comparisons, _run_getter, grammars.RUN)
    return [run for run in runs if keep(run)]


def sort_runs(runs, order_bys: Iterable[OrderBy] | None = None) -> list:
    """Sorted by ``order_bys``, then start_time DESC, then run_id ASC."""
    return _sort(runs, list(order_bys or ()), _run_getter, grammars.RUN)


def filter_experiments(experiments, comparisons: Iterable[Comparison]) -> list:
    keep = compile_filter(comparisons, _experiment_getter, grammars.EXPERIMENT)
    return [exp for exp in experiments if keep(exp)]


def sort_experiments(experiments, order_bys: Iterable[OrderBy] | None = None) -> list:
    """Sorted by ``order_bys``, then creation_time DESC, then experiment_id ASC."""
    return _sort(experiments, list(order_bys or ()), _experiment_getter, grammars.EXPERIMENT)


def filter_registered_models(models, comparisons: Iterable[Comparison]) -> list:
    keep = compile_filter(comparisons, _registry_getter, grammars.REGISTERED_MODEL)
    return [model for model in models if keep(model)]


def sort_registered_models(models, order_bys: Iterable[OrderBy] | None = None) -> list:
    """Sorted by ``order_bys``, then name ASC."""
    return _sort(models, list(order_bys or ()), _registry_getter, grammars.REGISTERED_MODEL)


def filter_model_versions(versions, comparisons: Iterable[Comparison]) -> list:
    keep = compile_filter(comparisons, _registry_getter, grammars.MODEL_VERSION)
    return [version for version in versions if keep(version)]


def sort_model_versions(versions, order_bys: Iterable[OrderBy] | None = None) -> list:
    """Sorted by ``order_bys``, then last_updated_timestamp DESC, name ASC, version DESC."""
    return _sort(versions, list(order_bys or ()), _registry_getter, grammars.MODEL_VERSION)
