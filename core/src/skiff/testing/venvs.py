"""Throwaway virtualenvs for compatibility tests (a real MLflow client, a plugin alone).

Environments are built once with uv and kept under ``$SKIFF_TEST_CACHE`` (default
``<repo>/.cache/venvs``), keyed by their requirements, so reruns cost nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

MLFLOW_3 = "mlflow-skinny==3.17.2"
MLFLOW_2 = "mlflow-skinny==2.22.5"


def cache_root() -> Path:
    env = os.environ.get("SKIFF_TEST_CACHE")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "core" / "pyproject.toml").exists() and (parent / ".git").exists():
            return parent / ".cache" / "venvs"
    return Path.home() / ".cache" / "skiff-test-venvs"


def _uv() -> list[str]:
    uv = shutil.which("uv")
    if uv:
        return [uv]
    return [sys.executable, "-m", "uv"]


def ensure_venv(name: str, requirements: list[str], python: str | None = None) -> Path:
    """Return the python executable of a venv holding ``requirements`` (pip specifiers or
    ``-e path`` pairs), building it the first time."""
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    root = cache_root() / f"{name}-{key}"
    py = root / "bin" / "python"
    marker = root / ".complete"
    if marker.exists() and py.exists():
        return py
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*_uv(), "venv", "-q", "-p", python or sys.executable, str(root)], check=True)
    subprocess.run([*_uv(), "pip", "install", "-q", "-p", str(py), *requirements], check=True)
    marker.write_text("\n".join(requirements))
    return py
