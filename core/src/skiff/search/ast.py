"""The parsed form of MLflow's search filters and order-by clauses.

One parser (``skiff.search.parser``) produces these; each store compiles them its own way
(the SQL store into SQL, the file store with ``skiff.search.evaluate``).
"""

from __future__ import annotations

import attrs

# Entity kinds a clause can name.
METRIC = "metric"
PARAM = "param"
TAG = "tag"
ATTRIBUTE = "attribute"
DATASET = "dataset"

# Comparators, upper-cased as they are stored in a Comparison.
NUMERIC_COMPARATORS = ("=", "!=", ">", ">=", "<", "<=")
STRING_COMPARATORS = ("=", "!=", "LIKE", "ILIKE")
SET_COMPARATORS = ("IN", "NOT IN")
NULL_COMPARATORS = ("IS NULL", "IS NOT NULL")


@attrs.frozen
class Comparison:
    """One ``<entity>.<key> <comparator> <value>`` clause.

    ``value`` is a float for metrics, an int for numeric attributes (a float only when the
    number written has a fraction, e.g. ``start_time > 1.5``), a str for string
    comparisons, a tuple of str for IN / NOT IN, and None for IS [NOT] NULL.
    Attribute keys are canonical (``run_name`` for `Run Name`, ``start_time`` for created).
    """

    entity: str
    key: str
    comparator: str
    value: object = None


@attrs.frozen
class OrderBy:
    """One ``order_by`` item; entity/key as in Comparison."""

    entity: str
    key: str
    ascending: bool = True
