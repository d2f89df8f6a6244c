"""What each search kind accepts: entities, attribute keys, comparators and value types.

The tables follow MLflow's documented grammar for search_runs, search_experiments,
search_registered_models and search_model_versions.
"""

from __future__ import annotations

import attrs

from skiff.search.ast import (
    ATTRIBUTE,
    DATASET,
    METRIC,
    NULL_COMPARATORS,
    NUMERIC_COMPARATORS,
    PARAM,
    SET_COMPARATORS,
    STRING_COMPARATORS,
    TAG,
)

# Value types a clause may require.
FLOAT = "float"  # unquoted number, stored as float (metrics)
INTEGER = "integer"  # unquoted number, stored as int (timestamps, version numbers)
STRING = "string"  # quoted string
ID = "id"  # quoted string or unquoted number, stored as str (experiment ids)

# Every spelling of an entity prefix, lower-cased.
ENTITY_ALIASES = {
    "metric": METRIC,
    "metrics": METRIC,
    "parameter": PARAM,
    "parameters": PARAM,
    "param": PARAM,
    "params": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}

STRING_OPS = STRING_COMPARATORS
STRING_SET_OPS = STRING_COMPARATORS + SET_COMPARATORS
STRING_NULL_OPS = STRING_COMPARATORS + NULL_COMPARATORS
ID_OPS = ("=", "!=") + SET_COMPARATORS


@attrs.frozen
class Field:
    """How one filterable key is compared."""

    value_type: str
    comparators: tuple[str, ...]
    # MLflow's model-version search also takes a number in quotes ('3').
    quoted_numbers: bool = False


@attrs.frozen
class Grammar:
    """The filter and order-by rules of one search kind."""

    kind: str  # "run", "experiment", ... (used in messages)
    attributes: dict  # canonical attribute key -> Field
    attribute_aliases: dict  # lower-cased alias -> canonical key
    entity_fields: dict  # entity -> Field for free-form keys (metrics, params, tags)
    dataset_fields: dict = attrs.field(factory=dict)  # dataset key -> Field
    order_by_attributes: tuple[str, ...] = ()
    order_by_aliases: dict = attrs.field(factory=dict)
    order_by_entities: tuple[str, ...] = ()  # entities orderable by any key
    default_order: tuple[tuple[str, str, bool], ...] = ()  # (entity, key, ascending)
    # Hints for attribute keys people try that cannot be filtered on.
    attribute_hints: dict = attrs.field(factory=dict)

    @property
    def entities(self) -> tuple[str, ...]:
        found = [ATTRIBUTE, *self.entity_fields]
        if self.dataset_fields:
            found.append(DATASET)
        return tuple(found)


_RUN_STRING = Field(STRING, STRING_OPS)
_TIMESTAMP = Field(INTEGER, NUMERIC_COMPARATORS)

RUN = Grammar(
    kind="run",
    attributes={
        "run_id": Field(STRING, STRING_SET_OPS),
        "run_name": _RUN_STRING,
        "status": _RUN_STRING,
        "user_id": _RUN_STRING,
        "artifact_uri": _RUN_STRING,
        "start_time": _TIMESTAMP,
        "end_time": _TIMESTAMP,
    },
    attribute_aliases={"run name": "run_name", "created": "start_time"},
    entity_fields={
        METRIC: Field(FLOAT, NUMERIC_COMPARATORS),
        PARAM: Field(STRING, STRING_NULL_OPS),
        TAG: Field(STRING, STRING_NULL_OPS),
    },
    dataset_fields={
        "name": Field(STRING, STRING_SET_OPS),
        "digest": Field(STRING, STRING_SET_OPS),
        "context": Field(STRING, STRING_SET_OPS),
    },
    order_by_attributes=(
        "run_id",
        "run_name",
        "status",
        "user_id",
        "artifact_uri",
        "start_time",
        "end_time",
        # Skiff's own: end_time - start_time, missing while a run has no end time (the
        # UI's Duration column sorts by it; MLflow's grammar has no such key).
        "duration",
    ),
    order_by_aliases={"run name": "run_name", "created": "start_time"},
    order_by_entities=(METRIC, PARAM, TAG),
    default_order=((ATTRIBUTE, "start_time", False), (ATTRIBUTE, "run_id", True)),
    attribute_hints={
        "lifecycle_stage": "use run_view_type to select active or deleted runs",
        "experiment_id": "use experiment_ids to select experiments",
    },
)

EXPERIMENT = Grammar(
    kind="experiment",
    attributes={
        "name": Field(STRING, STRING_OPS),
        "experiment_id": Field(ID, ID_OPS),
        "creation_time": _TIMESTAMP,
        "last_update_time": _TIMESTAMP,
    },
    attribute_aliases={},
    entity_fields={TAG: Field(STRING, STRING_NULL_OPS)},
    order_by_attributes=("name", "experiment_id", "creation_time", "last_update_time"),
    default_order=((ATTRIBUTE, "creation_time", False), (ATTRIBUTE, "experiment_id", True)),
)

REGISTERED_MODEL = Grammar(
    kind="registered model",
    attributes={"name": Field(STRING, STRING_SET_OPS)},
    attribute_aliases={},
    entity_fields={TAG: Field(STRING, STRING_OPS)},
    order_by_attributes=("name", "creation_timestamp", "last_updated_timestamp"),
    # The SQL store has long accepted "timestamp" for the creation time.
    order_by_aliases={"timestamp": "creation_timestamp"},
    default_order=((ATTRIBUTE, "name", True),),
)

MODEL_VERSION = Grammar(
    kind="model version",
    attributes={
        "name": Field(STRING, STRING_SET_OPS),
        "run_id": Field(STRING, STRING_SET_OPS),
        "source_path": Field(STRING, STRING_OPS),
        "version_number": Field(INTEGER, NUMERIC_COMPARATORS, quoted_numbers=True),
    },
    attribute_aliases={},
    entity_fields={TAG: Field(STRING, STRING_OPS)},
    order_by_attributes=(
        "name",
        "version_number",
        "creation_timestamp",
        "last_updated_timestamp",
    ),
    default_order=(
        (ATTRIBUTE, "last_updated_timestamp", False),
        (ATTRIBUTE, "name", True),
        (ATTRIBUTE, "version_number", False),
    ),
)
