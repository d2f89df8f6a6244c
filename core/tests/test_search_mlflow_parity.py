"""The parser accepts and rejects what MLflow's own parser does (real mlflow-skinny 3.x).

MLflow's parser runs in a throwaway venv as a subprocess; its answers are normalised
(entity names, alias keys, number values) and compared with ours. Where Skiff is knowingly
stricter or more lenient, the case sits in a list below with the reason.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from skiff.errors import SkiffException
from skiff.search import parser
from skiff.testing.venvs import MLFLOW_3, ensure_venv

# Filters (kind, text) that both parsers accept and must read alike.
ACCEPTED = [
    ("run", "metrics.rmse < 0.5 and params.model = 'rf' and tags.team ILIKE 'ml%'"),
    ("run", "metrics.a >= -1"),
    ("run", "metrics.a > 1e3"),
    ("run", "metrics.a = 1."),
    ("run", "metrics.a>1"),
    ("run", "metric.a != 2.5"),
    ("run", "metrics.`a b` <= 3"),
    ("run", 'params.a = "x"'),
    ("run", "parameter.a LIKE 'x%'"),
    ("run", "params.a IS NULL"),
    ("run", "tags.a IS NOT NULL"),
    ("run", "tags.mlflow.runName = 'x'"),
    ("run", "tags.\"a b\" = 'x'"),
    ("run", "tags.`a` = 'b'"),
    ("run", "tags.'a' = 'b'"),
    ("run", "tags.a = ''"),
    ("run", "attributes.run_id IN ('a', 'b')"),
    ("run", "run_id NOT IN ('a')"),
    ("run", "attr.status = 'FINISHED'"),
    ("run", "run.user_id ILIKE 'x'"),
    ("run", "artifact_uri LIKE 's3://%'"),
    ("run", "`Run name` = 'x'"),
    ("run", "`run name` = 'x'"),
    ("run", "attributes.`Run Name` LIKE 'x'"),
    ("run", "\"run_name\" = 'x'"),
    ("run", "Created > 5"),
    ("run", "created <= 5"),
    ("run", "start_time = 5"),
    ("run", "end_time != 5"),
    ("run", "start_time > 1.5"),
    ("run", "datasets.name IN ('a')"),
    ("run", "dataset.digest NOT IN ('a', 'b')"),
    ("run", "datasets.context = 'training' and datasets.digest = 'abc'"),
    ("run", "metrics.a > 1 AND"),
    ("run", "and params.a = 'x'"),
    ("run", "params.a = 'x' and and params.b = 'y'"),
    ("run", "AND"),
    ("experiment", "name = 'a'"),
    ("experiment", "name ILIKE 'a%'"),
    ("experiment", "experiment_id = '1'"),
    ("experiment", "experiment_id IN ('1', '2')"),
    ("experiment", "experiment_id NOT IN ('1')"),
    ("experiment", "creation_time > 5"),
    ("experiment", "last_update_time <= 5"),
    ("experiment", "tags.a IS NULL"),
    ("experiment", "tags.a LIKE 'x'"),
    ("registered_model", "name = 'a'"),
    ("registered_model", "name IN ('a', 'b')"),
    ("registered_model", "name NOT IN ('a')"),
    ("registered_model", "tags.a != 'x'"),
    ("model_version", "name = 'a' and version_number > 1"),
    ("model_version", "run_id IN ('a')"),
    ("model_version", "run_id NOT IN ('a')"),
    ("model_version", "source_path LIKE 's3://%'"),
    ("model_version", "version_number = '3'"),
    ("model_version", "tags.a ILIKE 'x'"),
]

# Filters both parsers reject.
REJECTED = [
    ("run", "metrics.a = 'x'"),
    ("run", "metrics.a > 1 OR metrics.b > 1"),
    ("run", "params.a = 1"),
    ("run", "metrics.a IS NULL"),
    ("run", "status IN ('a')"),
    ("run", "start_time > '5'"),
    ("run", "lifecycle_stage = 'x'"),
    ("run", "experiment_id = '1'"),
    ("run", "(metrics.a > 1)"),
    ("run", "NOT metrics.a > 1"),
    ("run", "run_id IN ()"),
    ("run", "metrics.a = NaN"),
    ("run", "datasets.source = 'x'"),
    ("run", "datasets.name IS NULL"),
    ("run", "params.a IN ('x')"),
    ("run", "metrics.a > 1 && metrics.b > 1"),
    ("run", "metrics.a > 1; x"),
    ("run", "'status' = 'x'"),
    ("experiment", "name IN ('a')"),
    ("experiment", "metrics.a > 1"),
    ("experiment", "status = 'x'"),
    ("registered_model", "tags.a IS NULL"),
    ("registered_model", "run_id = 'x'"),
    ("model_version", "source_path IN ('a')"),
    ("model_version", "tags.a IS NULL"),
]

# MLflow's parser lets these through (its stores then fail or ignore them); Skiff stops
# them at parse time so the message can say what is wrong.
STRICTER = [
    ("run", "metrics.a >> 1"),
    ("run", "metrics.a == 1"),
    ("run", "metrics.a <> 1"),
    ("run", "params.a NOT LIKE 'x'"),
    ("model_version", "version_number = 'abc'"),
]

# MLflow rejects these; Skiff reads them the way a user means them.
LENIENT = [
    ("run", "`RUN NAME` = 'x'"),  # alias spellings in any case
    ("run", "METRICS.a > 1"),  # entity prefixes in any case
    ("run", "metrics.val-loss > 1"),  # unquoted keys with MLflow's key characters
    ("run", "metrics.a > +2"),  # explicit plus sign
    ("experiment", "experiment_id = 1"),  # ids unquoted
    ("experiment", "attributes.name = 'x'"),  # every attribute prefix spelling
    ("registered_model", "attributes.name = 'x'"),
]

ORDER_BY_ACCEPTED = [
    ("run", "metrics.a"),
    ("run", "metrics.`a b` desc"),
    ("run", "params.a asc"),
    ("run", "tags.mlflow.runName DESC"),
    ("run", "Created"),
    ("run", "created DESC"),
    ("run", "attr.start_time"),
    ("run", "run_name"),
    ("run", "status"),
    ("run", "user_id"),
    ("run", "artifact_uri"),
    ("run", "run_id"),
    ("run", "end_time DESC"),
    ("experiment", "name"),
    ("experiment", "attribute.experiment_id DESC"),
    ("experiment", "creation_time"),
    ("experiment", "last_update_time ASC"),
    ("registered_model", "name"),
    ("registered_model", "creation_timestamp DESC"),
    ("registered_model", "last_updated_timestamp"),
    ("model_version", "name"),
    ("model_version", "version_number DESC"),
    ("model_version", "creation_timestamp"),
    ("model_version", "last_updated_timestamp"),
]

ORDER_BY_REJECTED = [
    ("run", "lifecycle_stage"),
    ("run", "experiment_id"),
    ("run", "foo"),
    ("run", "metrics.a DESC x"),
    ("run", ""),
    ("experiment", "foo"),
    ("registered_model", "version_number"),
    ("model_version", "run_id"),
]

# Skiff's own order_by key (the UI's Duration column); MLflow has none.
ORDER_BY_SKIFF_ONLY = [
    ("run", "duration"),
    ("run", "attributes.duration DESC"),
]

_MLFLOW_SCRIPT = r"""
import json, sys
from mlflow.utils import search_utils as su

filters = {
    "run": su.SearchUtils.parse_search_filter,
    "experiment": su.SearchExperimentsUtils.parse_search_filter,
    "registered_model": su.SearchModelUtils.parse_search_filter,
    "model_version": su.SearchModelVersionUtils.parse_search_filter,
}
orders = {
    "run": su.SearchUtils.parse_order_by_for_search_runs,
    "experiment": su.SearchExperimentsUtils.parse_order_by_for_search_experiments,
    "registered_model": su.SearchModelUtils.parse_order_by_for_search_registered_models,
    "model_version": su.SearchModelVersionUtils.parse_order_by_for_search_model_versions,
}
request = json.load(sys.stdin)
answers = []
for what, kind, text in request:
    try:
        if what == "filter":
            found = [
                [c["type"], c["key"], c["comparator"],
                 list(c["value"]) if isinstance(c["value"], tuple) else c["value"]]
                for c in filters[kind](text)
            ]
        else:
            found = list(orders[kind](text))
        answers.append(["ok", found])
    except Exception as exc:
        answers.append(["error", str(exc)])
print(json.dumps(answers))
"""

_ENTITIES = {
    "metric": "metric",
    "parameter": "param",
    "tag": "tag",
    "attribute": "attribute",
    "dataset": "dataset",
}
_ALIASES = {"run name": "run_name", "created": "start_time"}
_FILTERS = {
    "run": parser.parse_run_filter,
    "experiment": parser.parse_experiment_filter,
    "registered_model": parser.parse_registered_model_filter,
    "model_version": parser.parse_model_version_filter,
}
_ORDERS = {
    "run": parser.parse_run_order_by,
    "experiment": parser.parse_experiment_order_by,
    "registered_model": parser.parse_registered_model_order_by,
    "model_version": parser.parse_model_version_order_by,
}


@pytest.fixture(scope="module")
def mlflow_answers():
    """MLflow's answer for every case above, from one subprocess."""
    request = [["filter", kind, text] for kind, text in ACCEPTED + REJECTED + STRICTER + LENIENT]
    request += [["order", kind, text]
                for kind, text in ORDER_BY_ACCEPTED + ORDER_BY_REJECTED + ORDER_BY_SKIFF_ONLY]
    python = ensure_venv("mlflow3", [MLFLOW_3])
    done = subprocess.run(
        [str(python), "-c", _MLFLOW_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = json.loads(done.stdout)
    return {(what, kind, text): answer for (what, kind, text), answer in zip(request, answers)}


def _normalise_mlflow_clause(entity, key, comparator, value):
    entity = _ENTITIES[entity]
    if entity == "attribute":
        key = _ALIASES.get(key.lower(), key)
    if entity == "metric" or (isinstance(value, str) and key == "version_number"):
        value = float(value)
    if isinstance(value, list):
        value = tuple(value)
    return entity, key, comparator.upper(), value


def _ours(kind, text):
    return [(c.entity, c.key, c.comparator, c.value) for c in _FILTERS[kind](text)]


@pytest.mark.parametrize(("kind", "text"), ACCEPTED)
def test_accepted_alike(mlflow_answers, kind, text):
    status, theirs = mlflow_answers[("filter", kind, text)]
    assert status == "ok", theirs
    assert _ours(kind, text) == [_normalise_mlflow_clause(*clause) for clause in theirs]


@pytest.mark.parametrize(("kind", "text"), REJECTED + STRICTER)
def test_rejected(mlflow_answers, kind, text):
    status, _ = mlflow_answers[("filter", kind, text)]
    assert status == ("ok" if (kind, text) in STRICTER else "error")
    with pytest.raises(SkiffException):
        _FILTERS[kind](text)


@pytest.mark.parametrize(("kind", "text"), LENIENT)
def test_lenient(mlflow_answers, kind, text):
    status, _ = mlflow_answers[("filter", kind, text)]
    assert status == "error"
    assert _ours(kind, text)


@pytest.mark.parametrize(("kind", "text"), ORDER_BY_ACCEPTED)
def test_order_by_alike(mlflow_answers, kind, text):
    status, theirs = mlflow_answers[("order", kind, text)]
    assert status == "ok", theirs
    entity, key, ascending = theirs
    [ours] = _ORDERS[kind]([text])
    entity = _ENTITIES[entity]
    if entity == "attribute":
        key = _ALIASES.get(key.lower(), key)
    assert (ours.entity, ours.key, ours.ascending) == (entity, key, ascending)


@pytest.mark.parametrize(("kind", "text"), ORDER_BY_REJECTED)
def test_order_by_rejected(mlflow_answers, kind, text):
    status, _ = mlflow_answers[("order", kind, text)]
    assert status == "error"
    with pytest.raises(SkiffException):
        _ORDERS[kind]([text])


@pytest.mark.parametrize(("kind", "text"), ORDER_BY_SKIFF_ONLY)
def test_order_by_skiff_only(mlflow_answers, kind, text):
    status, _ = mlflow_answers[("order", kind, text)]
    assert status == "error"
    [ours] = _ORDERS[kind]([text])
    assert (ours.entity, ours.key) == ("attribute", "duration")
