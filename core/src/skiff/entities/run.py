"""Run, RunInfo, RunData and the run's inputs and outputs."""

from __future__ import annotations

import attrs

from skiff.entities._json import compact
from skiff.entities.enums import LifecycleStage
from skiff.entities.metric import InputTag, Metric, Param, RunTag


@attrs.define(slots=True)
class RunInfo:
    run_id: str
    experiment_id: str
    user_id: str = ""
    status: str = "RUNNING"
    start_time: int | None = None
    end_time: int | None = None
    lifecycle_stage: str = LifecycleStage.ACTIVE
    artifact_uri: str = ""
    run_name: str = ""

    @property
    def run_uuid(self) -> str:
        return self.run_id

    def to_dict(self) -> dict:
        return compact(
            {
                "run_uuid": self.run_id,
                "experiment_id": str(self.experiment_id),
                "run_name": self.run_name,
                "user_id": self.user_id,
                "status": self.status,
                "start_time": self.start_time,
                "end_time": self.end_time,
                "artifact_uri": self.artifact_uri,
                "lifecycle_stage": self.lifecycle_stage,
                "run_id": self.run_id,
            }
        )

    @classmethod
    def from_dict(cls, d: dict) -> RunInfo:
        status = d.get("status", "RUNNING")
        if isinstance(status, int):
            from skiff.entities.enums import RunStatus

            status = RunStatus.to_string(status)
        return cls(
            run_id=d.get("run_id") or d.get("run_uuid"),
            experiment_id=str(d.get("experiment_id", "0")),
            user_id=d.get("user_id", ""),
            status=status,
            start_time=d.get("start_time"),
            end_time=d.get("end_time"),
            lifecycle_stage=d.get("lifecycle_stage", LifecycleStage.ACTIVE),
            artifact_uri=d.get("artifact_uri", ""),
            run_name=d.get("run_name", ""),
        )


@attrs.define(slots=True)
class RunData:
    """Latest metric values, params and tags. ``metrics``/``params``/``tags`` are dicts,
    as in MLflow; the full objects stay reachable for serialization."""

    metric_objs: list[Metric] = attrs.field(factory=list)
    param_objs: list[Param] = attrs.field(factory=list)
    tag_objs: list[RunTag] = attrs.field(factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return {m.key: m.value for m in self.metric_objs}

    @property
    def params(self) -> dict[str, str]:
        return {p.key: p.value for p in self.param_objs}

    @property
    def tags(self) -> dict[str, str]:
        return {t.key: t.value for t in self.tag_objs}

    # MLflow's private spelling, used by some user code.
    @property
    def _metric_objs(self) -> list[Metric]:
        return self.metric_objs

    def to_dict(self) -> dict:
        out = {}  # empty lists left out, as compact() would (without building them)
        if self.metric_objs:
            out["metrics"] = [m.to_dict() for m in self.metric_objs]
        if self.param_objs:
            out["params"] = [p.to_dict() for p in self.param_objs]
        if self.tag_objs:
            out["tags"] = [t.to_dict() for t in self.tag_objs]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> RunData:
        return cls(
            [Metric.from_dict(m) for m in d.get("metrics", [])],
            [Param.from_dict(p) for p in d.get("params", [])],
            [RunTag.from_dict(t) for t in d.get("tags", [])],
        )


@attrs.define(slots=True)
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None

    def to_dict(self) -> dict:
        return compact(
            {
                "name": self.name,
                "digest": self.digest,
                "source_type": self.source_type,
                "source": self.source,
                "schema": self.schema,
                "profile": self.profile,
            }
        )

    @classmethod
    def from_dict(cls, d: dict) -> Dataset:
        return cls(
            name=d["name"],
            digest=d["digest"],
            source_type=d.get("source_type", ""),
            source=d.get("source", ""),
            schema=d.get("schema"),
            profile=d.get("profile"),
        )


@attrs.define(slots=True)
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag] = attrs.field(factory=list)

    def to_dict(self) -> dict:
        return compact(
            {"tags": [t.to_dict() for t in self.tags], "dataset": self.dataset.to_dict()}
        )

    @classmethod
    def from_dict(cls, d: dict) -> DatasetInput:
        return cls(
            Dataset.from_dict(d["dataset"]),
            [InputTag(t["key"], t.get("value", "")) for t in d.get("tags", [])],
        )


@attrs.frozen
class ModelInput:
    model_id: str

    def to_dict(self) -> dict:
        return {"model_id": self.model_id}


@attrs.frozen
class ModelOutput:
    model_id: str
    step: int = 0

    def to_dict(self) -> dict:
        return {"model_id": self.model_id, "step": self.step}


@attrs.define(slots=True)
class RunInputs:
    dataset_inputs: list[DatasetInput] = attrs.field(factory=list)
    model_inputs: list[ModelInput] = attrs.field(factory=list)

    def to_dict(self) -> dict:
        if not self.dataset_inputs and not self.model_inputs:
            return {}
        return compact(
            {
                "dataset_inputs": [d.to_dict() for d in self.dataset_inputs],
                "model_inputs": [m.to_dict() for m in self.model_inputs],
            }
        )

    @classmethod
    def from_dict(cls, d: dict) -> RunInputs:
        return cls(
            [DatasetInput.from_dict(x) for x in d.get("dataset_inputs", [])],
            [ModelInput(x["model_id"]) for x in d.get("model_inputs", [])],
        )


@attrs.define(slots=True)
class RunOutputs:
    model_outputs: list[ModelOutput] = attrs.field(factory=list)

    def to_dict(self) -> dict:
        if not self.model_outputs:
            return {}
        return {"model_outputs": [m.to_dict() for m in self.model_outputs]}

    @classmethod
    def from_dict(cls, d: dict) -> RunOutputs:
        return cls([ModelOutput(x["model_id"], int(x.get("step", 0))) for x in d.get("model_outputs", [])])


@attrs.define(slots=True)
class Run:
    info: RunInfo
    data: RunData = attrs.field(factory=RunData)
    inputs: RunInputs = attrs.field(factory=RunInputs)
    outputs: RunOutputs = attrs.field(factory=RunOutputs)

    def to_dict(self) -> dict:
        return {
            "info": self.info.to_dict(),
            "data": self.data.to_dict(),
            "inputs": self.inputs.to_dict(),
            "outputs": self.outputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Run:
        return cls(
            RunInfo.from_dict(d["info"]),
            RunData.from_dict(d.get("data", {})),
            RunInputs.from_dict(d.get("inputs", {})),
            RunOutputs.from_dict(d.get("outputs", {})),
        )
