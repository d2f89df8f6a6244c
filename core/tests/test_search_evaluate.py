"""Applying parsed filters and order-by clauses to entities in Python."""

from __future__ import annotations

import math
import random
import time
from types import SimpleNamespace

import pytest

from skiff.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from skiff.errors import SkiffException
from skiff.search.ast import Comparison, OrderBy
from skiff.search.evaluate import (
    filter_experiments,
    filter_model_versions,
    filter_registered_models,
    filter_runs,
    like_to_regex,
    sort_experiments,
    sort_model_versions,
    sort_registered_models,
    sort_runs,
)
from skiff.search.parser import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
    parse_run_filter,
    parse_run_order_by,
)


def make_run(
    run_id,
    *,
    metrics=None,
    params=None,
    tags=None,
    datasets=(),
    start_time=None,
    end_time=None,
    run_name="",
    status="FINISHED",
    user_id="alice",
    artifact_uri=None,
):
    info = RunInfo(
        run_id=run_id,
        experiment_id="0",
        user_id=user_id,
        status=status,
        start_time=start_time,
        end_time=end_time,
        run_name=run_name,
        artifact_uri=artifact_uri or f"file:///mlruns/0/{run_id}/artifacts",
    )
    data = RunData(
        [Metric(k, v, 0, 0) for k, v in (metrics or {}).items()],
        [Param(k, v) for k, v in (params or {}).items()],
        [RunTag(k, v) for k, v in (tags or {}).items()],
    )
    inputs = RunInputs(
        [
            DatasetInput(
                Dataset(name, digest, "local", "src"),
                [InputTag("mlflow.data.context", context)] if context else [],
            )
            for name, digest, context in datasets
        ]
    )
    return Run(info, data, inputs)


RUNS = [
    make_run(
        "r1",
        metrics={"rmse": 0.3, "acc": 0.9},
        params={"model": "rf", "lr": "0.1"},
        tags={"team": "ML-core", "mlflow.runName": "baseline-1"},
        start_time=100,
        end_time=200,
        run_name="baseline-1",
        datasets=[("iris", "d1", "training"), ("iris-test", "d2", "eval")],
    ),
    make_run(
        "r2",
        metrics={"rmse": 0.7, "acc": float("nan")},
        params={"model": "svm"},
        tags={"team": "ml-infra"},
        start_time=300,
        run_name="Baseline_2",
        status="FAILED",
        user_id="bob",
        datasets=[("wine", "d3", None)],
    ),
    make_run(
        "r3",
        metrics={"rmse": float("nan")},
        params={"model": "rf%x"},
        start_time=200,
        end_time=250,
        run_name="tuned",
        status="RUNNING",
    ),
    make_run("r4", start_time=None, run_name="empty"),
]


def ids(items):
    return [getattr(getattr(item, "info", item), "run_id", None) for item in items]


def run_ids(filter_string):
    return ids(filter_runs(RUNS, parse_run_filter(filter_string)))


# ---------------------------------------------------------------- run filters


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("", ["r1", "r2", "r3", "r4"]),
        ("metrics.rmse = 0.3", ["r1"]),
        ("metrics.rmse != 0.3", ["r2"]),  # NaN and missing never match, not even !=
        ("metrics.rmse > 0.3", ["r2"]),
        ("metrics.rmse >= 0.3", ["r1", "r2"]),
        ("metrics.rmse < 0.7", ["r1"]),
        ("metrics.rmse <= 0.7", ["r1", "r2"]),
        ("metrics.acc < 10", ["r1"]),
        ("metrics.acc != 0", ["r1"]),
        ("metrics.missing > -1e300", []),
        ("params.model = 'rf'", ["r1"]),
        ("params.model != 'rf'", ["r2", "r3"]),  # runs lacking the param do not match
        ("params.model LIKE 'rf%'", ["r1", "r3"]),
        ("params.model LIKE 'RF%'", []),  # LIKE is case-sensitive
        ("params.model ILIKE 'RF%'", ["r1", "r3"]),
        ("params.model LIKE 'rf\\%%'", ["r3"]),  # backslash escapes a wildcard
        ("params.model LIKE '_f'", ["r1"]),
        ("params.model LIKE 's_m'", ["r2"]),
        ("params.model = 'RF'", []),  # = is case-sensitive
        ("params.lr IS NULL", ["r2", "r3", "r4"]),
        ("params.lr IS NOT NULL", ["r1"]),
        ("tags.team LIKE 'ml%'", ["r2"]),
        ("tags.team ILIKE 'ml%'", ["r1", "r2"]),
        ("tags.team != 'ml-infra'", ["r1"]),
        ("tags.team IS NULL", ["r3", "r4"]),
        ("tags.`mlflow.runName` = 'baseline-1'", ["r1"]),
        ("tags.mlflow.runName IS NOT NULL", ["r1"]),
        ("attributes.run_id IN ('r1', 'r3', 'zz')", ["r1", "r3"]),
        ("run_id NOT IN ('r1', 'r3')", ["r2", "r4"]),
        ("run_id = 'r2'", ["r2"]),
        ("run_id LIKE 'r%'", ["r1", "r2", "r3", "r4"]),
        ("`Run name` ILIKE 'baseline%'", ["r1", "r2"]),
        ("run_name LIKE 'baseline%'", ["r1"]),
        ("attributes.run_name != 'tuned'", ["r1", "r2", "r4"]),
        ("status = 'FAILED'", ["r2"]),
        ("status != 'FAILED'", ["r1", "r3", "r4"]),
        ("status ILIKE 'run%'", ["r3"]),
        ("user_id = 'bob'", ["r2"]),
        ("artifact_uri LIKE '%/r3/artifacts'", ["r3"]),
        ("start_time > 100", ["r2", "r3"]),
        ("start_time >= 100", ["r1", "r2", "r3"]),
        ("created < 300", ["r1", "r3"]),
        ("start_time != 100", ["r2", "r3"]),  # r4 has no start time
        ("end_time <= 250", ["r1", "r3"]),
        ("end_time = 200", ["r1"]),
        ("datasets.name = 'iris'", ["r1"]),
        ("datasets.name LIKE 'iris%'", ["r1"]),
        ("datasets.name != 'iris'", ["r1", "r2"]),  # any input may match
        ("datasets.digest IN ('d2', 'd3')", ["r1", "r2"]),
        ("datasets.digest NOT IN ('d1', 'd2')", ["r2"]),
        ("datasets.context = 'training'", ["r1"]),
        ("datasets.context ILIKE 'EVAL'", ["r1"]),
        ("datasets.context != 'training'", ["r1"]),  # r2's input has no context
        ("datasets.context = 'training' and datasets.digest = 'd1'", ["r1"]),
        ("metrics.rmse < 1 and params.model = 'rf' and tags.team ILIKE 'ml%'", ["r1"]),
        ("metrics.rmse < 1 and status = 'FAILED'", ["r2"]),
    ],
)
def test_filter_runs(filter_string, expected):
    assert run_ids(filter_string) == expected


def test_filter_keeps_input_order_and_accepts_iterables():
    assert ids(filter_runs(iter(reversed(RUNS)), parse_run_filter("run_id LIKE 'r%'"))) == [
        "r4",
        "r3",
        "r2",
        "r1",
    ]


def test_filter_runs_without_inputs_object_fields():
    bare = make_run("bare")
    assert filter_runs([bare], parse_run_filter("datasets.name = 'x'")) == []


def test_unsupported_comparator_in_hand_built_comparison():
    with pytest.raises(SkiffException) as info:
        filter_runs(RUNS, [Comparison("metric", "rmse", "LIKE", "x")])
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("pattern", "text", "case_sensitive", "matches"),
    [
        ("a%", "abc", True, True),
        ("a%", "Abc", True, False),
        ("a%", "Abc", False, True),
        ("%b%", "abc", True, True),
        ("a_c", "abc", True, True),
        ("a_c", "abbc", True, False),
        ("a.c", "abc", True, False),
        ("a.c", "a.c", True, True),
        ("(x)+", "(x)+", True, True),
        ("%", "", True, True),
        ("a\\%", "a%", True, True),
        ("a\\%", "ab", True, False),
        ("%", "multi\nline", True, True),
        ("", "", True, True),
        ("", "a", True, False),
    ],
)
def test_like_to_regex(pattern, text, case_sensitive, matches):
    assert (like_to_regex(pattern, case_sensitive).fullmatch(text) is not None) is matches


# ---------------------------------------------------------------- run sorting


def sorted_ids(*order_by):
    return ids(sort_runs(RUNS, parse_run_order_by(list(order_by))))


def test_default_run_order_is_start_time_desc_then_run_id():
    tied = [
        make_run("b", start_time=5),
        make_run("a", start_time=5),
        make_run("c", start_time=9),
        make_run("d"),
    ]
    assert ids(sort_runs(tied, [])) == ["c", "a", "b", "d"]
    assert ids(sort_runs(tied)) == ["c", "a", "b", "d"]
    assert sorted_ids() == ["r2", "r3", "r1", "r4"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.rmse"], ["r1", "r2", "r3", "r4"]),  # NaN and missing last
        (["metrics.rmse DESC"], ["r2", "r1", "r3", "r4"]),
        (["metrics.acc ASC"], ["r1", "r2", "r3", "r4"]),  # NaN ties with missing ones
        (["params.model"], ["r1", "r3", "r2", "r4"]),
        (["params.model DESC"], ["r2", "r3", "r1", "r4"]),
        (["params.lr DESC"], ["r1", "r2", "r3", "r4"]),
        (["tags.team"], ["r1", "r2", "r3", "r4"]),
        (["tags.team DESC"], ["r2", "r1", "r3", "r4"]),
        (["start_time"], ["r1", "r3", "r2", "r4"]),
        (["created DESC"], ["r2", "r3", "r1", "r4"]),
        (["end_time DESC"], ["r3", "r1", "r2", "r4"]),
        (["`Run name`"], ["r2", "r1", "r4", "r3"]),  # ordinal: upper case first
        (["status", "run_id DESC"], ["r2", "r4", "r1", "r3"]),
        (["user_id DESC"], ["r2", "r3", "r1", "r4"]),
        (["run_id DESC"], ["r4", "r3", "r2", "r1"]),
        (["params.model", "metrics.rmse DESC"], ["r1", "r3", "r2", "r4"]),
    ],
)
def test_sort_runs(order_by, expected):
    assert sorted_ids(*order_by) == expected


def test_sort_missing_values_last_in_both_directions():
    runs = [
        make_run("a", metrics={"m": 2.0}, start_time=1),
        make_run("b", start_time=2),
        make_run("c", metrics={"m": float("nan")}, start_time=3),
        make_run("d", metrics={"m": 1.0}, start_time=4),
    ]
    assert ids(sort_runs(runs, [OrderBy("metric", "m", True)])) == ["d", "a", "c", "b"]
    assert ids(sort_runs(runs, [OrderBy("metric", "m", False)])) == ["a", "d", "c", "b"]


def test_sort_does_not_mutate_input():
    runs = list(RUNS)
    sort_runs(runs, parse_run_order_by(["run_id DESC"]))
    assert runs == RUNS


def test_sort_and_filter_thousands_of_runs_quickly():
    rng = random.Random(7)
    runs = [
        make_run(
            f"run{i:05d}",
            metrics={"loss": rng.random(), "acc": rng.random()},
            params={"lr": str(rng.choice([0.1, 0.01]))},
            tags={"team": "t"},
            start_time=rng.randrange(1000),
        )
        for i in range(5000)
    ]
    order = parse_run_order_by(["metrics.loss DESC", "params.lr"])
    began = time.perf_counter()
    ordered = sort_runs(runs, order)
    kept = filter_runs(runs, parse_run_filter("metrics.acc > 0.5 and params.lr = '0.1'"))
    elapsed = time.perf_counter() - began
    losses = [r.data.metrics["loss"] for r in ordered]
    assert losses == sorted(losses, reverse=True)
    assert all(r.data.metrics["acc"] > 0.5 and r.data.params["lr"] == "0.1" for r in kept)
    assert elapsed < 2.0


# ---------------------------------------------------------------- experiments


def make_experiment(experiment_id, name, creation_time=None, last_update_time=None, tags=None):
    return Experiment(
        experiment_id,
        name,
        f"file:///mlruns/{experiment_id}",
        tags=tags or {},
        creation_time=creation_time,
        last_update_time=last_update_time,
    )


EXPERIMENTS = [
    make_experiment("0", "Default", 10, 10),
    make_experiment("2", "exp-two", 30, 50, {"team": "a", "k 1": "v"}),
    make_experiment("10", "Exp-ten", 20, 60, {"team": "b"}),
    make_experiment("3", "undated"),
]


def exp_ids(items):
    return [e.experiment_id for e in items]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'Default'", ["0"]),
        ("name != 'Default'", ["2", "10", "3"]),
        ("name LIKE 'exp%'", ["2"]),
        ("attributes.name ILIKE 'exp%'", ["2", "10"]),
        ("experiment_id = '10'", ["10"]),
        ("experiment_id = 10", ["10"]),
        ("experiment_id != '10'", ["0", "2", "3"]),
        ("experiment_id IN ('0', '3')", ["0", "3"]),
        ("experiment_id NOT IN ('0', '3')", ["2", "10"]),
        ("creation_time > 10", ["2", "10"]),
        ("creation_time >= 10", ["0", "2", "10"]),
        ("creation_time != 10", ["2", "10"]),
        ("last_update_time < 60", ["0", "2"]),
        ("last_update_time <= 60", ["0", "2", "10"]),
        ("last_update_time = 50", ["2"]),
        ("tags.team = 'a'", ["2"]),
        ("tags.team != 'a'", ["10"]),
        ("tags.team LIKE '_'", ["2", "10"]),
        ("tags.team ILIKE 'B'", ["10"]),
        ("tags.`k 1` IS NOT NULL", ["2"]),
        ("tags.team IS NULL", ["0", "3"]),
        ("name ILIKE 'exp%' and tags.team = 'b'", ["10"]),
    ],
)
def test_filter_experiments(filter_string, expected):
    assert exp_ids(filter_experiments(EXPERIMENTS, parse_experiment_filter(filter_string))) == (
        expected
    )


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], ["2", "10", "0", "3"]),
        (["creation_time"], ["0", "10", "2", "3"]),
        (["name"], ["Default", "Exp-ten", "exp-two", "undated"]),
        (["name DESC"], ["undated", "exp-two", "Exp-ten", "Default"]),
        (["experiment_id"], ["0", "2", "3", "10"]),  # numeric ids order as numbers
        (["attributes.experiment_id DESC"], ["10", "3", "2", "0"]),
        (["last_update_time DESC"], ["10", "2", "0", "3"]),
    ],
)
def test_sort_experiments(order_by, expected):
    ordered = sort_experiments(EXPERIMENTS, parse_experiment_order_by(order_by))
    key = "name" if order_by and order_by[0].startswith("name") else "experiment_id"
    assert [getattr(e, key) for e in ordered] == expected


def test_experiment_default_tie_break_is_experiment_id():
    exps = [
        make_experiment("5", "a", 1),
        make_experiment("4", "b", 1),
        make_experiment("40", "c", 1),
    ]
    assert exp_ids(sort_experiments(exps, None)) == ["4", "5", "40"]


# ---------------------------------------------------------------- registered models


MODELS = [
    SimpleNamespace(
        name="churn", tags={"stage": "prod"}, creation_timestamp=3, last_updated_timestamp=9
    ),
    SimpleNamespace(
        name="Fraud", tags=[RunTag("stage", "dev")], creation_timestamp=1, last_updated_timestamp=10
    ),
    SimpleNamespace(name="ads", tags=None, creation_timestamp=2, last_updated_timestamp=None),
]


def names(items):
    return [m.name for m in items]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'churn'", ["churn"]),
        ("name != 'churn'", ["Fraud", "ads"]),
        ("name LIKE '%a%'", ["Fraud", "ads"]),
        ("name ILIKE 'f%'", ["Fraud"]),
        ("name IN ('ads', 'churn')", ["churn", "ads"]),
        ("name NOT IN ('ads', 'churn')", ["Fraud"]),
        ("tags.stage = 'dev'", ["Fraud"]),
        ("tags.stage != 'dev'", ["churn"]),
        ("tags.stage LIKE 'p%'", ["churn"]),
        ("tags.stage ILIKE 'DEV'", ["Fraud"]),
    ],
)
def test_filter_registered_models(filter_string, expected):
    found = filter_registered_models(MODELS, parse_registered_model_filter(filter_string))
    assert names(found) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], ["Fraud", "ads", "churn"]),
        (["name DESC"], ["churn", "ads", "Fraud"]),
        (["creation_timestamp"], ["Fraud", "ads", "churn"]),
        (["timestamp DESC"], ["churn", "ads", "Fraud"]),
        (["last_updated_timestamp DESC"], ["Fraud", "churn", "ads"]),
    ],
)
def test_sort_registered_models(order_by, expected):
    ordered = sort_registered_models(MODELS, parse_registered_model_order_by(order_by))
    assert names(ordered) == expected


# ---------------------------------------------------------------- model versions


VERSIONS = [
    SimpleNamespace(
        name="churn",
        version="1",
        run_id="r1",
        source="s3://b/1",
        tags={"ok": "yes"},
        creation_timestamp=1,
        last_updated_timestamp=5,
    ),
    SimpleNamespace(
        name="churn",
        version="2",
        run_id="r2",
        source="file:///m/2",
        tags={},
        creation_timestamp=2,
        last_updated_timestamp=5,
    ),
    SimpleNamespace(
        name="ads",
        version=1,
        run_id="r3",
        source="s3://b/3",
        tags={"ok": "no"},
        creation_timestamp=3,
        last_updated_timestamp=7,
    ),
]


def versions(items):
    return [(v.name, int(v.version)) for v in items]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'churn'", [("churn", 1), ("churn", 2)]),
        ("name IN ('ads')", [("ads", 1)]),
        ("name NOT IN ('ads')", [("churn", 1), ("churn", 2)]),
        ("run_id IN ('r1', 'r3')", [("churn", 1), ("ads", 1)]),
        ("run_id NOT IN ('r1', 'r3')", [("churn", 2)]),
        ("run_id != 'r1'", [("churn", 2), ("ads", 1)]),
        ("source_path LIKE 's3://%'", [("churn", 1), ("ads", 1)]),
        ("source_path ILIKE 'FILE:%'", [("churn", 2)]),
        ("version_number = 2", [("churn", 2)]),
        ("version_number != 2", [("churn", 1), ("ads", 1)]),
        ("version_number > 1", [("churn", 2)]),
        ("version_number <= 1", [("churn", 1), ("ads", 1)]),
        ("name = 'churn' and version_number >= 2", [("churn", 2)]),
        ("tags.ok = 'yes'", [("churn", 1)]),
        ("tags.ok != 'yes'", [("ads", 1)]),
    ],
)
def test_filter_model_versions(filter_string, expected):
    found = filter_model_versions(VERSIONS, parse_model_version_filter(filter_string))
    assert versions(found) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], [("ads", 1), ("churn", 2), ("churn", 1)]),
        (["version_number"], [("ads", 1), ("churn", 1), ("churn", 2)]),
        (["name", "version_number DESC"], [("ads", 1), ("churn", 2), ("churn", 1)]),
        (["creation_timestamp DESC"], [("ads", 1), ("churn", 2), ("churn", 1)]),
    ],
)
def test_sort_model_versions(order_by, expected):
    ordered = sort_model_versions(VERSIONS, parse_model_version_order_by(order_by))
    assert versions(ordered) == expected


def test_nan_metric_helper_values_are_real_nans():
    # Guards the fixtures above: r2's acc and r3's rmse must stay NaN.
    assert math.isnan(RUNS[1].data.metrics["acc"])
    assert math.isnan(RUNS[2].data.metrics["rmse"])
