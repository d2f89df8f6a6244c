"""MLflow's ``./mlruns`` layout: folder names and meta.yaml <-> entity conversions.

meta.yaml keys are written sorted, with run ``status`` and ``source_type`` as integers
(MLflow's proto numbers) and IDs as strings. Readers accept MLflow 2.x variants
(``run_uuid``, integer experiment IDs, a missing lifecycle_stage).
"""

from __future__ import annotations

import hashlib

from skiff.entities import Experiment, LifecycleStage, RunInfo, RunStatus, SourceType

TRASH = ".trash"
METRICS = "metrics"
PARAMS = "params"
TAGS = "tags"
ARTIFACTS = "artifacts"
INPUTS = "inputs"
OUTPUTS = "outputs"
DATASETS = "datasets"
MODELS = "models"
TRACES = "traces"
# Folders inside an experiment that are not runs.
RESERVED_EXPERIMENT_FOLDERS = frozenset({TAGS, DATASETS, TRACES, MODELS})
DEFAULT_EXPERIMENT_ID = "0"
RUN_NAME_TAG = "mlflow.runName"


def experiment_meta(experiment: Experiment) -> dict:
    return {
        "artifact_location": experiment.artifact_location,
        "creation_time": experiment.creation_time,
        "effective_trace_archival_retention": None,
        "experiment_id": str(experiment.experiment_id),
        "last_update_time": experiment.last_update_time,
        "lifecycle_stage": experiment.lifecycle_stage,
        "name": experiment.name,
        "trace_location": None,
        "workspace": "default",
    }


def experiment_from_meta(meta: dict, tags: dict[str, str] | None = None) -> Experiment:
    return Experiment(
        experiment_id=str(meta["experiment_id"]),
        name=str(meta["name"]),
        artifact_location=str(meta.get("artifact_location") or ""),
        lifecycle_stage=meta.get("lifecycle_stage") or LifecycleStage.ACTIVE,
        tags=dict(tags or {}),
        creation_time=_int_or_none(meta.get("creation_time")),
        last_update_time=_int_or_none(meta.get("last_update_time")),
    )


def _int_or_none(value):
    return None if value is None else int(value)


def run_meta(info: RunInfo, deleted_time: int | None = None) -> dict:
    meta = {
        "artifact_uri": info.artifact_uri,
        "end_time": info.end_time,
        "entry_point_name": "",
        "experiment_id": str(info.experiment_id),
        "lifecycle_stage": info.lifecycle_stage,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "source_name": "",
        "source_type": SourceType.LOCAL,
        "source_version": "",
        "start_time": info.start_time,
        "status": status_number(info.status),
        "tags": [],  # tags live in tags/; MLflow keeps the key for old readers
        "user_id": info.user_id,
    }
    if deleted_time is not None:
        meta["deleted_time"] = deleted_time
    return meta


def status_number(status) -> int:
    if isinstance(status, str):
        return RunStatus.from_string(status)
    number = int(status)
    RunStatus.to_string(number)  # validates
    return number


def status_name(status) -> str:
    if status is None:
        return "RUNNING"
    if isinstance(status, str) and not status.isdigit():
        return RunStatus.to_string(RunStatus.from_string(status))
    return RunStatus.to_string(int(status))


def run_info_from_meta(meta: dict) -> RunInfo:
    run_id = meta.get("run_id") or meta.get("run_uuid")
    if not run_id:
        raise KeyError("run_id")
    return RunInfo(
        run_id=str(run_id),
        experiment_id=str(meta["experiment_id"]),
        user_id="" if meta.get("user_id") is None else str(meta.get("user_id")),
        status=status_name(meta.get("status")),
        start_time=_int_or_none(meta.get("start_time")),
        end_time=_int_or_none(meta.get("end_time")),
        lifecycle_stage=meta.get("lifecycle_stage") or LifecycleStage.ACTIVE,
        artifact_uri=str(meta.get("artifact_uri") or ""),
        run_name="" if meta.get("run_name") is None else str(meta.get("run_name")),
    )


def _md5(*parts: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def dataset_id(name: str, digest: str) -> str:
    return _md5(name, digest)


def input_id(source_id: str, run_id: str) -> str:
    return _md5(source_id, run_id)
