"""Environment variables: ``SKIFF_<NAME>`` first, then MLflow's ``MLFLOW_<NAME>`` twin."""

from __future__ import annotations

import os


def get_env(name: str, default: str | None = None) -> str | None:
    """Value of SKIFF_<name>, else MLFLOW_<name>, else ``default``."""
    for prefix in ("SKIFF_", "MLFLOW_"):
        value = os.environ.get(prefix + name)
        if value is not None:
            return value
    return default


def get_env_bool(name: str, default: bool = False) -> bool:
    value = get_env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def get_env_int(name: str, default: int) -> int:
    value = get_env(name)
    return default if value in (None, "") else int(value)


def set_both(name: str, value: str) -> None:
    """Export a setting under both spellings (for child processes that use either tool)."""
    os.environ["SKIFF_" + name] = value
    os.environ["MLFLOW_" + name] = value
