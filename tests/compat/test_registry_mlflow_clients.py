"""The real MLflow clients (3.17.2 and 2.22.5) use the model registry of a real
``skiff server``: registration through log_model and register_model, aliases, tags, stages,
search, ``models:/`` loading (alias, version, stage), renames, deletes and refused input."""

from __future__ import annotations

import pytest

from skiff.testing.venvs import MLFLOW_2, MLFLOW_3, ensure_venv

CLIENTS = {
    "mlflow3": ("mlflow3-models", [MLFLOW_3, "scikit-learn", "skops", "cloudpickle", "pandas"]),
    "mlflow2": ("mlflow2-models", [MLFLOW_2, "cloudpickle", "pandas<3", "numpy<2.3"]),
}


@pytest.mark.parametrize("which", sorted(CLIENTS))
def test_registry_with_real_mlflow_client(skiff_server, run_client, which):
    name, requirements = CLIENTS[which]
    out = run_client(ensure_venv(name, requirements), "mlflow_client_registry.py",
                     skiff_server.url)
    assert out["versions"] == ["1", "2"]
    assert out["v1_run_id"] is True
    assert out["v1_stage"] == "Archived"
    assert out["v1_tags"] == {"k": "v"}
    assert out["v1_description"] == "first"
    if which == "mlflow3":  # 3.x registers the logged model
        assert out["v1_source"] == f"models:/{out['model_id']}"
        # the server links the logged model (the 3.x client appends its own entry too)
        assert {"name": out["search_name"][0], "version": "1"} in out["links"]
        assert {"name": out["search_name"][0], "version": "2"} in out["links"]
    else:
        assert out["v1_source"].startswith("mlflow-artifacts:/")
        assert out["v1_source"].endswith("/artifacts/model")
    assert out["latest_production"] == ["2"]
    assert out["by_alias"] == "2"
    assert out["rm_aliases"] == {"champion": "2"}
    assert out["rm_tags"] == {"team": "skiff"}
    assert out["rm_description"] == "registry description"
    assert out["rm_latest"] == [["1", "Archived"], ["2", "Production"]]
    assert out["download_uri"].startswith("mlflow-artifacts:/")
    assert out["predict_alias"] == [2]
    assert out["predict_version"] == [3]
    assert out["predict_stage"] == [4]
    assert out["search_name"] == [out["search_name"][0]] and out["search_like"]
    assert out["search_tag"] is True
    assert out["search_versions"] == ["1", "2"] == out["search_versions_run"]
    assert out["duplicate"] == "RESOURCE_ALREADY_EXISTS"
    assert out["missing_model"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["missing_version"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["bad_stage"] == "INVALID_PARAMETER_VALUE"
    assert out["reserved_alias"] == "INVALID_PARAMETER_VALUE"
    assert out["local_source"] == "INVALID_PARAMETER_VALUE"
    assert out["traversal_source"] == "INVALID_PARAMETER_VALUE"
    assert out["alias_gone"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["after_delete"] == ["2"]
    assert out["renamed"].endswith("-renamed") and out["renamed_version"] == out["renamed"]
    assert out["deleted"] == "RESOURCE_DOES_NOT_EXIST"
