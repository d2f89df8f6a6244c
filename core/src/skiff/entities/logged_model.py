"""The 3.x LoggedModel entity (``models:/m-<id>``)."""

from __future__ import annotations

import attrs

from skiff.entities._json import compact
from skiff.entities.enums import _NamedInts
from skiff.entities.metric import Metric


class LoggedModelStatus(_NamedInts):
    UNSPECIFIED = 0
    PENDING = 1
    READY = 2
    UPLOAD_FAILED = 3
    _names = {
        0: "LOGGED_MODEL_STATUS_UNSPECIFIED",
        1: "LOGGED_MODEL_PENDING",
        2: "LOGGED_MODEL_READY",
        3: "LOGGED_MODEL_UPLOAD_FAILED",
    }


@attrs.frozen
class LoggedModelParameter:
    key: str
    value: str

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value}


@attrs.define(slots=True)
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = "LOGGED_MODEL_PENDING"
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    creator_id: str | None = None
    tags: dict[str, str] = attrs.field(factory=dict)
    params: dict[str, str] = attrs.field(factory=dict)
    metrics: list[Metric] = attrs.field(factory=list)

    @property
    def artifact_uri(self) -> str:
        return self.artifact_location

    def to_dict(self) -> dict:
        info = compact(
            {
                "model_id": self.model_id,
                "experiment_id": str(self.experiment_id),
                "name": self.name,
                "creation_timestamp_ms": self.creation_timestamp,
                "last_updated_timestamp_ms": self.last_updated_timestamp,
                "artifact_uri": self.artifact_location,
                "status": self.status,
                "creator_id": self.creator_id,
                "model_type": self.model_type,
                "source_run_id": self.source_run_id,
                "status_message": self.status_message,
                "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            }
        )
        data = compact(
            {
                "params": [{"key": k, "value": v} for k, v in self.params.items()],
                "metrics": [m.to_dict() for m in self.metrics],
            }
        )
        return {"info": info, "data": data}

    @classmethod
    def from_dict(cls, d: dict) -> LoggedModel:
        info, data = d.get("info", {}), d.get("data", {})
        status = info.get("status", "LOGGED_MODEL_PENDING")
        if isinstance(status, int):
            status = LoggedModelStatus.to_string(status)
        return cls(
            model_id=info["model_id"],
            experiment_id=str(info.get("experiment_id", "0")),
            name=info.get("name", ""),
            artifact_location=info.get("artifact_uri", ""),
            creation_timestamp=info.get("creation_timestamp_ms", 0),
            last_updated_timestamp=info.get("last_updated_timestamp_ms", 0),
            status=status,
            model_type=info.get("model_type"),
            source_run_id=info.get("source_run_id"),
            status_message=info.get("status_message"),
            creator_id=info.get("creator_id"),
            tags={t["key"]: t.get("value", "") for t in info.get("tags", [])},
            params={p["key"]: p.get("value", "") for p in data.get("params", [])},
            metrics=[Metric.from_dict(m) for m in data.get("metrics", [])],
        )
