"""Skiff's entities: plain attrs classes with MLflow's field names and JSON form.

Every store returns these, the server encodes them with ``to_dict()``, and the REST client
decodes them with ``from_dict()``.
"""

from skiff.entities.enums import LifecycleStage, RunStatus, SourceType, ViewType
from skiff.entities.experiment import Experiment
from skiff.entities.logged_model import LoggedModel, LoggedModelParameter, LoggedModelStatus
from skiff.entities.metric import (
    ExperimentTag,
    InputTag,
    Metric,
    MetricWithRunId,
    Param,
    RunTag,
)
from skiff.entities.paging import FileInfo, PagedList
from skiff.entities.registry import ModelVersion, ModelVersionStatus, RegisteredModel
from skiff.entities.run import (
    Dataset,
    DatasetInput,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelParameter",
    "LoggedModelStatus",
    "Metric",
    "MetricWithRunId",
    "ModelInput",
    "ModelOutput",
    "ModelVersion",
    "ModelVersionStatus",
    "PagedList",
    "RegisteredModel",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]
