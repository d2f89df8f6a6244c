"""Fixtures for the model interop tests (helpers live in ``_interop.py``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _interop import mlflow_python, run_mlflow  # noqa: E402,F401  (re-exported fixture)


@pytest.fixture(scope="session")
def roundtrip(mlflow_python, tmp_path_factory):  # noqa: F811
    """Skiff saves its models, then one MLflow process saves MLflow's models (and logs one
    into the shared ./mlruns) and loads Skiff's. Returns everything both sides expect."""
    pytest.importorskip("skiff_flavor_sklearn")
    from _skiff_models import save_skiff_models

    out = tmp_path_factory.mktemp("roundtrip")
    mlruns = out / "mlruns"
    skiff_expected, skiff_logged = save_skiff_models(out / "skiff", mlruns)
    targets = [str(out / "skiff" / name) for name in skiff_expected]
    targets.append(skiff_logged["model_uri"])
    stdout = run_mlflow(mlflow_python, "mlflow_roundtrip.py", out / "mlflow", mlruns, "--",
                        *targets, tmp_dir=out, tracking_uri=str(mlruns))
    return {
        "mlflow_dir": out / "mlflow",
        "mlflow_expected": json.loads((out / "mlflow" / "expected.json").read_text()),
        "skiff_dir": out / "skiff",
        "skiff_expected": skiff_expected,
        "skiff_logged": skiff_logged,
        "mlflow_got": json.loads(stdout.strip().splitlines()[-1]),
        "mlruns": mlruns,
    }
