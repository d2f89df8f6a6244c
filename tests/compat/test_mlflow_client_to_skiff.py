"""The real MLflow client (3.x and 2.x) against a real ``skiff server``."""

from __future__ import annotations

import pytest

from skiff.testing.venvs import MLFLOW_2, MLFLOW_3, ensure_venv

CLIENTS = {
    "mlflow3": ("mlflow3", [MLFLOW_3]),
    "mlflow2": ("mlflow2", [MLFLOW_2]),
}


@pytest.mark.parametrize("which", sorted(CLIENTS))
def test_tracking_and_artifacts(skiff_server, run_client, which):
    name, requirements = CLIENTS[which]
    out = run_client(ensure_venv(name, requirements), "mlflow_client_tracking.py",
                     skiff_server.url)
    assert out["experiment"].startswith("compat-exp-")
    assert out["by_name"] is True
    assert out["exp_tags"] == "skiff"
    assert out["history_len"] == 500
    assert out["latest_b"] == 499.0
    assert out["run_params"] == {"i": "0", "p1": "v1", "p2": "v2"}
    assert out["param_overwrite"] == "INVALID_PARAMETER_VALUE"
    assert out["even_runs"] == ["0", "2", "4"]
    assert out["paging"] == [["run-0", "run-1"], ["run-2", "run-3"], True]
    assert out["metric_filter"] == ["run-2", "run-3", "run-4"]
    assert out["experiment"] in out["experiments"]
    assert out["artifact_uri"].startswith("mlflow-artifacts:/")
    assert out["listing"] == ["blobs", "d", "notes.txt"]
    assert out["listing_d"] == ["d/x.json"]
    assert out["downloaded"] == {"a": 1}
    assert out["downloaded_big"] == out["big_size"]
    assert out["text"] == "hello"
    assert out["after_delete"] == 4 and out["after_restore"] == 5
    assert out["terminated"] == "FAILED"
    assert out["missing_run"] == "RESOURCE_DOES_NOT_EXIST"


def test_pyfunc_log_model_and_load(skiff_server, run_client):
    python = ensure_venv("mlflow3-models",
                         [MLFLOW_3, "scikit-learn", "skops", "cloudpickle", "pandas"])
    out = run_client(python, "mlflow_client_model.py", skiff_server.url)
    assert out["model_uri"] == f"models:/{out['model_id']}"
    assert out["prediction"] == [4, 5]
    assert out["by_run"] == [13]
    assert out["status"].endswith("READY")
    assert out["source_run_id"] is True
    assert out["model_id"] in out["searched"]
    assert out["outputs"] == [out["model_id"]]
