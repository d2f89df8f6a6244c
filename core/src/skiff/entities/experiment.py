"""The Experiment entity."""

from __future__ import annotations

import attrs

from skiff.entities._json import compact
from skiff.entities.enums import LifecycleStage
from skiff.entities.metric import ExperimentTag


@attrs.define(slots=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = attrs.field(factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None

    DEFAULT_EXPERIMENT_NAME = "Default"

    def to_dict(self) -> dict:
        return compact(
            {
                "experiment_id": str(self.experiment_id),
                "name": self.name,
                "artifact_location": self.artifact_location,
                "lifecycle_stage": self.lifecycle_stage,
                "last_update_time": self.last_update_time,
                "creation_time": self.creation_time,
                "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            }
        )

    @classmethod
    def from_dict(cls, d: dict) -> Experiment:
        return cls(
            experiment_id=str(d["experiment_id"]),
            name=d.get("name", ""),
            artifact_location=d.get("artifact_location", ""),
            lifecycle_stage=d.get("lifecycle_stage", LifecycleStage.ACTIVE),
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            creation_time=d.get("creation_time"),
            last_update_time=d.get("last_update_time"),
        )

    @property
    def tag_objects(self) -> list[ExperimentTag]:
        return [ExperimentTag(k, v) for k, v in self.tags.items()]
