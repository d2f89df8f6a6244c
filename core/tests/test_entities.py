"""Entities serialize to MLflow's JSON form and back."""

import math

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
    RunStatus,
    RunTag,
    ViewType,
)


def test_run_json_shape_matches_mlflow():
    run = Run(
        RunInfo("a" * 32, "1", "alice", "FINISHED", 10, 20, "active", "file:///x", "r1"),
        RunData([Metric("m", float("nan"), 5, 2)], [Param("p", "1")], [RunTag("t", "")]),
        RunInputs([DatasetInput(Dataset("d", "abc", "local", '{"uri": "x"}'),
                                [InputTag("mlflow.data.context", "training")])]),
    )
    d = run.to_dict()
    assert list(d["info"]) == ["run_uuid", "experiment_id", "run_name", "user_id", "status",
                               "start_time", "end_time", "artifact_uri", "lifecycle_stage",
                               "run_id"]
    assert d["info"]["run_uuid"] == d["info"]["run_id"]
    assert d["data"]["metrics"] == [{"key": "m", "value": "NaN", "timestamp": 5, "step": 2}]
    assert d["data"]["tags"] == [{"key": "t", "value": ""}]  # empty strings are kept
    assert d["outputs"] == {}
    back = Run.from_dict(d)
    assert math.isnan(back.data.metrics["m"])
    assert back.data.params == {"p": "1"}
    assert back.inputs.dataset_inputs[0].tags[0].value == "training"


def test_running_run_omits_end_time():
    d = RunInfo("b" * 32, "0", start_time=1).to_dict()
    assert "end_time" not in d and d["status"] == "RUNNING"


def test_experiment_round_trip():
    exp = Experiment("7", "e", "file:///a", tags={"k": "v"}, creation_time=1, last_update_time=2)
    assert Experiment.from_dict(exp.to_dict()) == exp
    assert exp.to_dict()["tags"] == [{"key": "k", "value": "v"}]


def test_metric_accepts_mlflow_special_values():
    assert Metric.from_dict({"key": "k", "value": "Infinity", "timestamp": 1}).value == math.inf
    assert Metric.from_dict({"key": "k", "value": "-Infinity", "timestamp": 1}).value == -math.inf


def test_enums_use_mlflow_numbers_and_names():
    assert RunStatus.to_string(3) == "FINISHED"
    assert RunStatus.from_string("killed") == 5
    assert ViewType.coerce("all") == 3 and ViewType.coerce(None) == 1
    assert RunStatus.is_terminated("FAILED") and not RunStatus.is_terminated(1)
