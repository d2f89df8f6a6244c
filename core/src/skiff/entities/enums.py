"""Enumerations with MLflow's numbers and names (RunStatus, ViewType, SourceType...)."""

from __future__ import annotations

from skiff.errors import SkiffException


class _NamedInts:
    """Constants with MLflow's proto numbers, convertible to and from their names."""

    _names: dict[int, str] = {}

    @classmethod
    def to_string(cls, value: int) -> str:
        try:
            return cls._names[int(value)]
        except (KeyError, ValueError, TypeError):
            raise SkiffException.invalid_parameter_value(
                f"Could not get string corresponding to {cls.__name__} {value!r}"
            ) from None

    @classmethod
    def from_string(cls, name: str) -> int:
        for number, known in cls._names.items():
            if known == str(name).upper():
                return number
        raise SkiffException.invalid_parameter_value(
            f"Invalid {cls.__name__} {name!r}; expected one of {list(cls._names.values())}"
        )

    @classmethod
    def all_names(cls) -> list[str]:
        return list(cls._names.values())


class RunStatus(_NamedInts):
    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5
    _names = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}

    @staticmethod
    def is_terminated(status) -> bool:
        if isinstance(status, str):
            return status in ("FINISHED", "FAILED", "KILLED")
        return status in (3, 4, 5)

    @classmethod
    def all_status(cls) -> list[int]:
        return list(cls._names)


class ViewType(_NamedInts):
    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3
    _names = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}

    @classmethod
    def coerce(cls, value) -> int:
        """Accept 1/2/3, their names, or MLflow CLI spellings ('active_only')."""
        if value is None:
            return cls.ACTIVE_ONLY
        if isinstance(value, str) and not value.isdigit():
            return cls.from_string(value)
        number = int(value)
        if number not in cls._names:
            raise SkiffException.invalid_parameter_value(f"Invalid view type {value!r}")
        return number


class SourceType(_NamedInts):
    NOTEBOOK = 1
    JOB = 2
    PROJECT = 3
    LOCAL = 4
    UNKNOWN = 1000
    _names = {1: "NOTEBOOK", 2: "JOB", 3: "PROJECT", 4: "LOCAL", 1000: "UNKNOWN"}


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type) -> list[str]:
        view_type = ViewType.coerce(view_type)
        if view_type == ViewType.ACTIVE_ONLY:
            return [cls.ACTIVE]
        if view_type == ViewType.DELETED_ONLY:
            return [cls.DELETED]
        return [cls.ACTIVE, cls.DELETED]

    @classmethod
    def matches_view_type(cls, view_type, stage: str) -> bool:
        return stage in cls.view_type_to_stages(view_type)

    @classmethod
    def is_valid(cls, stage: str) -> bool:
        return stage in (cls.ACTIVE, cls.DELETED)
