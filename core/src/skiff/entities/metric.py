"""Metric, Param, RunTag and the other key/value entities of a run."""

from __future__ import annotations

import attrs

from skiff.entities._json import compact, float_from_json, float_to_json


@attrs.define(slots=True, eq=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None

    def to_dict(self) -> dict:
        out = {"key": self.key, "value": float_to_json(self.value),
               "timestamp": self.timestamp, "step": self.step}
        if self.timestamp is None or self.step is None or self.value is None:
            out = compact(out)
        # the optional fields are rarely set: test them only (a search writes thousands)
        for name in ("dataset_name", "dataset_digest", "model_id", "run_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Metric:
        return cls(
            key=d["key"],
            value=float_from_json(d["value"]),
            timestamp=int(d.get("timestamp") or 0),
            step=int(d.get("step") or 0),
            dataset_name=d.get("dataset_name"),
            dataset_digest=d.get("dataset_digest"),
            model_id=d.get("model_id"),
            run_id=d.get("run_id"),
        )


@attrs.define(slots=True, eq=True)
class MetricWithRunId(Metric):
    """A metric point that names its run (bulk history answers)."""


@attrs.frozen
class Param:
    key: str
    value: str

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict) -> Param:
        return cls(d["key"], "" if d.get("value") is None else str(d["value"]))


@attrs.frozen
class RunTag:
    key: str
    value: str

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict) -> RunTag:
        return cls(d["key"], "" if d.get("value") is None else str(d["value"]))


@attrs.frozen
class ExperimentTag(RunTag):
    """A tag on an experiment: ``{key, value}``."""


@attrs.frozen
class InputTag(RunTag):
    """A tag on a dataset input, e.g. ``mlflow.data.context``."""
