"""Helpers for interop between Skiff and MLflow 3.17.2 model files: MLflow runs in its own virtualenv
(built once and cached) as a subprocess; Skiff runs in this process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent / "scripts"
MLFLOW_MODELS_REQUIREMENTS = ["mlflow-skinny==3.17.2", "scikit-learn", "skops", "cloudpickle",
                              "pandas"]


@pytest.fixture(scope="session")
def mlflow_python() -> str:
    from skiff.testing.venvs import ensure_venv

    return str(ensure_venv("mlflow3-models", MLFLOW_MODELS_REQUIREMENTS))


def mlflow_env(tmp_dir, tracking_uri=None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "SKIFF_")) and k != "PYTHONPATH"}
    # MLflow 3.17 refuses to deserialize any model file unless told the source is trusted.
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    env["MLFLOW_TRACKING_URI"] = tracking_uri or str(Path(tmp_dir) / "mlflow-unused-mlruns")
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return env


def run_mlflow(python: str, script: str, *args, tmp_dir, tracking_uri=None) -> str:
    proc = subprocess.run([python, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, env=mlflow_env(tmp_dir, tracking_uri),
                          timeout=300, cwd=str(tmp_dir))
    if proc.returncode != 0:
        raise AssertionError(f"{script} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc.stdout


def run_mlflow_json(python: str, script: str, *args, tmp_dir, tracking_uri=None):
    out = run_mlflow(python, script, *args, tmp_dir=tmp_dir, tracking_uri=tracking_uri)
    return json.loads(out.strip().splitlines()[-1])
