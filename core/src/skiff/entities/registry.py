"""Model registry entities: RegisteredModel, ModelVersion, their tags and aliases."""

from __future__ import annotations

import attrs

from skiff.entities._json import compact
from skiff.errors import SkiffException

STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
STAGE_DELETED_INTERNAL = "Deleted_Internal"
ALL_STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)


def canonical_stage(stage: str) -> str:
    """'production' -> 'Production'; an unknown stage lists the valid ones."""
    for known in ALL_STAGES:
        if str(stage).lower() == known.lower():
            return known
    raise SkiffException.invalid_parameter_value(
        f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}.")


class ModelVersionStatus:
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


@attrs.define(slots=True)
class ModelVersion:
    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = STAGE_NONE
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY
    status_message: str | None = None
    tags: dict[str, str] = attrs.field(factory=dict)
    run_link: str | None = None
    aliases: list[str] = attrs.field(factory=list)
    model_id: str | None = None

    def to_dict(self) -> dict:
        return compact({
            "name": self.name,
            "version": str(self.version),
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "user_id": self.user_id,
            "current_stage": self.current_stage,
            "description": self.description,
            "source": self.source,
            "run_id": self.run_id,
            "status": self.status,
            "status_message": self.status_message,
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            "run_link": self.run_link,
            "aliases": list(self.aliases),
            "model_id": self.model_id,
        })

    @classmethod
    def from_dict(cls, d: dict) -> ModelVersion:
        return cls(
            name=d["name"], version=str(d["version"]),
            creation_timestamp=d.get("creation_timestamp", 0),
            last_updated_timestamp=d.get("last_updated_timestamp"),
            description=d.get("description"), user_id=d.get("user_id"),
            current_stage=d.get("current_stage", STAGE_NONE), source=d.get("source"),
            run_id=d.get("run_id"), status=d.get("status", ModelVersionStatus.READY),
            status_message=d.get("status_message"),
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            run_link=d.get("run_link"), aliases=list(d.get("aliases", [])),
            model_id=d.get("model_id"),
        )


@attrs.define(slots=True)
class RegisteredModel:
    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = attrs.field(factory=list)
    tags: dict[str, str] = attrs.field(factory=dict)
    aliases: dict[str, str] = attrs.field(factory=dict)  # alias -> version
    user_id: str | None = None

    def to_dict(self) -> dict:
        return compact({
            "name": self.name,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "user_id": self.user_id,
            "description": self.description,
            "latest_versions": [v.to_dict() for v in self.latest_versions],
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            "aliases": [{"alias": a, "version": str(v)} for a, v in self.aliases.items()],
        })

    @classmethod
    def from_dict(cls, d: dict) -> RegisteredModel:
        return cls(
            name=d["name"], creation_timestamp=d.get("creation_timestamp"),
            last_updated_timestamp=d.get("last_updated_timestamp"),
            description=d.get("description"),
            latest_versions=[ModelVersion.from_dict(v) for v in d.get("latest_versions", [])],
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            aliases={a["alias"]: str(a["version"]) for a in d.get("aliases", [])},
            user_id=d.get("user_id"),
        )
