"""MLflow's input rules (names, lengths, batch sizes), shared by every store and the server.

Each check raises INVALID_PARAMETER_VALUE with a message saying what is wrong and what
the limit is, before anything is written.
"""

from __future__ import annotations

import math
import numbers
import os
import posixpath
import re
import warnings

from skiff.errors import SkiffException

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = 1_000_000
MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_MODEL_REGISTRY_TAG_KEY_LENGTH = 250
MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_SCHEMA_SIZE = 1_048_575
MAX_DATASET_PROFILE_SIZE = 16_777_215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_ARTIFACT_LOCATION_LENGTH = 2048

# Steps and timestamps are stored as 64-bit integers; a value must fit a double.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # MLflow's int64 fields
_VALID_KEY = re.compile(r"^[/\w.\- :]*$")
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")


def _bad(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


def _truncate_enabled() -> bool:
    from skiff.env import get_env

    return (get_env("TRUNCATE_LONG_VALUES") or "true").lower() == "true"


def validate_key_name(key, kind: str) -> None:
    """Metric, param and tag keys: MLflow's characters, not empty, stable under path
    normalisation (no '..', no leading or doubled '/')."""
    if key is None or not isinstance(key, str) or key == "":
        raise _bad(f"Invalid {kind} name: {key!r}. Names must be non-empty strings.")
    if not _VALID_KEY.match(key):
        raise _bad(
            f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, "
            "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
        )
    if (posixpath.normpath(key) != key or key.startswith("/") or key == "."
            or ".." in key.split("/")):
        raise _bad(
            f"Invalid {kind} name: '{key}'. Names cannot contain path segments such as "
            "'..' or '.', nor start or end with '/' or repeat it."
        )
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise _bad(
            f"{kind.capitalize()} name '{key[:40]}...' had length {len(key)}, which exceeded "
            f"length limit of {MAX_ENTITY_KEY_LENGTH}"
        )


def _fits_double(value) -> bool:
    try:
        float(value)
    except (OverflowError, TypeError, ValueError):  # an int beyond the largest double
        return False
    return True


def validate_metric(key, value, timestamp, step) -> None:
    validate_key_name(key, "metric")
    if isinstance(value, bool) or not isinstance(value, numbers.Number) or not _fits_double(value):
        raise _bad(
            f"Got invalid value {value!r} for metric '{key}' (timestamp={timestamp}). "
            "Please specify value as a valid double (64-bit floating point)"
        )
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral) \
            or not 0 <= timestamp <= INT64_MAX:
        raise _bad(
            f"Got invalid timestamp {timestamp!r} for metric '{key}' (value={value}). "
            "Timestamp must be a nonnegative long (64-bit integer)"
        )
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) \
            or not INT64_MIN <= step <= INT64_MAX:
        raise _bad(
            f"Got invalid step {step!r} for metric '{key}' (value={value}). "
            "Step must be a valid long (64-bit integer)."
        )


def _fit_length(value: str, limit: int, what: str, key: str) -> str:
    if len(value) <= limit:
        return value
    if _truncate_enabled():
        warnings.warn(
            f"{what} '{key}' value of length {len(value)} truncated to {limit} characters "
            "(set SKIFF_TRUNCATE_LONG_VALUES=false to refuse instead)",
            stacklevel=3,
        )
        return value[:limit]
    raise _bad(
        f"{what} '{key}' had value length {len(value)}, which exceeded length limit of {limit}"
    )


def validate_param(key, value) -> str:
    """Returns the value to store (truncated when MLflow would truncate)."""
    validate_key_name(key, "param")
    return _fit_length(str(value), MAX_PARAM_VAL_LENGTH, "Param", key)


def validate_tag(key, value) -> str:
    validate_key_name(key, "tag")
    return _fit_length("" if value is None else str(value), MAX_TAG_VAL_LENGTH, "Tag", key)


def validate_batch_limits(metrics, params, tags) -> None:
    """MLflow's per-request limits, checked before anything is written."""
    for items, limit, name in (
        (metrics, MAX_METRICS_PER_BATCH, "metrics"),
        (params, MAX_PARAMS_TAGS_PER_BATCH, "params"),
        (tags, MAX_PARAMS_TAGS_PER_BATCH, "tags"),
    ):
        if len(items) > limit:
            raise _bad(
                f"A batch logging request can contain at most {limit} {name}. Got "
                f"{len(items)} {name}. Please split up {name} across multiple requests and "
                "try again."
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise _bad(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} total "
            f"metrics, params and tags. Got {total}."
        )
    seen, dupes = set(), set()
    for p in params:
        (dupes if p.key in seen else seen).add(p.key)
    if dupes:
        raise _bad(
            f"Duplicate parameter keys have been submitted: {sorted(dupes)}. Please ensure "
            "the request contains only one param value per param key."
        )


def validate_metrics(metrics) -> None:
    """``validate_metric`` for many points, quick for well-formed ones: plain types are
    checked inline and each distinct key once; anything unusual goes through
    ``validate_metric``, which raises MLflow's message."""
    good_keys: set = set()
    for m in metrics:
        key, value, timestamp, step = m.key, m.value, m.timestamp, m.step
        if (type(value) is float and type(timestamp) is int and 0 <= timestamp <= INT64_MAX
                and type(step) is int and INT64_MIN <= step <= INT64_MAX
                and type(key) is str):
            if key not in good_keys:
                validate_key_name(key, "metric")
                good_keys.add(key)
        else:
            validate_metric(key, value, timestamp, step)


def validate_batch(metrics, params, tags):
    """Check a whole batch; returns (params, tags) with values fitted to their limits."""
    validate_batch_limits(metrics, params, tags)
    from skiff.entities import Param, RunTag

    validate_metrics(metrics)
    params = [Param(p.key, validate_param(p.key, p.value)) for p in params]
    tags = [RunTag(t.key, validate_tag(t.key, t.value)) for t in tags]
    return params, tags


def validate_experiment_name(name) -> None:
    if not isinstance(name, str) or not name.strip():
        raise _bad(f"Invalid experiment name: {name!r}. Experiment names cannot be empty.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise _bad(
            f"Experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        )


def validate_experiment_tag(key, value) -> None:
    validate_key_name(key, "tag")
    if len(key) > MAX_EXPERIMENT_TAG_KEY_LENGTH or len(str(value)) > MAX_EXPERIMENT_TAG_VAL_LENGTH:
        raise _bad(
            f"Experiment tag '{key[:40]}' exceeds the limits: key {MAX_EXPERIMENT_TAG_KEY_LENGTH} "
            f"and value {MAX_EXPERIMENT_TAG_VAL_LENGTH} characters"
        )


def validate_run_id(run_id) -> None:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise _bad(f"Invalid run ID: '{run_id}'")


def validate_experiment_id(experiment_id) -> None:
    if experiment_id is None or not _EXPERIMENT_ID.match(str(experiment_id)):
        raise _bad(f"Invalid experiment ID: '{experiment_id}'")


def validate_max_results(max_results, limit: int, name: str = "max_results") -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, numbers.Integral) or max_results <= 0:
        raise _bad(
            f"Invalid value {max_results!r} for parameter '{name}' supplied. It must be a "
            "positive integer"
        )
    if max_results > limit:
        raise _bad(
            f"Invalid value {max_results} for parameter '{name}' supplied. It must be at most {limit}"
        )
    return int(max_results)


def validate_dataset_input(dataset_input) -> None:
    ds = dataset_input.dataset
    for value, limit, what in (
        (ds.name, MAX_DATASET_NAME_SIZE, "name"),
        (ds.digest, MAX_DATASET_DIGEST_SIZE, "digest"),
        (ds.source, MAX_DATASET_SOURCE_SIZE, "source"),
        (ds.schema or "", MAX_DATASET_SCHEMA_SIZE, "schema"),
        (ds.profile or "", MAX_DATASET_PROFILE_SIZE, "profile"),
    ):
        if value is None or (what in ("name", "digest") and not value):
            raise _bad(f"Dataset {what} must be a non-empty string")
        if len(value) > limit:
            raise _bad(f"Dataset {what} exceeds the maximum length of {limit}")
    for tag in dataset_input.tags:
        if len(tag.key) > MAX_INPUT_TAG_KEY_SIZE or len(tag.value) > MAX_INPUT_TAG_VALUE_SIZE:
            raise _bad(
                f"Input tag '{tag.key[:40]}' exceeds the limits: key {MAX_INPUT_TAG_KEY_SIZE}, "
                f"value {MAX_INPUT_TAG_VALUE_SIZE}"
            )


def is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def validate_relative_path(path: str | None) -> str:
    """An artifact path relative to a root: refuse absolute paths, '..', NUL, backslashes
    and their URL-encoded forms. Returns the normalised path ('' for the root)."""
    if not path:
        return ""
    from urllib.parse import unquote

    decoded = path
    for _ in range(3):  # double- and triple-encoded forms
        decoded = unquote(decoded)
    for candidate in (path, decoded):
        if "\x00" in candidate or "\\" in candidate:
            raise _bad(f"Invalid path: {path!r}")
        if candidate.startswith("/") or re.match(r"^[A-Za-z]:", candidate):
            raise _bad(f"Invalid path: {path!r}")
        if ".." in candidate.split("/"):
            raise _bad(f"Invalid path: {path!r}")
    normalized = posixpath.normpath(path)
    return "" if normalized == "." else normalized.replace(os.sep, "/")
