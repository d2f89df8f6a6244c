"""Driven by tests/compat: a real MLflow client (3.x or 2.x) uses the model registry of the
server at MLFLOW_TRACKING_URI: register through log_model and register_model, versions,
aliases, tags, stages, search, models:/ loading, renames and deletes, and bad input."""

import json
import os
import sys

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

MAJOR = int(mlflow.__version__.split(".")[0])
SUFFIX = os.environ.get("COMPAT_SUFFIX", "0")
NAME = f"compat-reg-{SUFFIX}"


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return [x + self.n for x in model_input["x"]]


def error_code(call):
    try:
        call()
    except MlflowException as exc:
        return exc.error_code
    return None


def predict(uri, x):
    import pandas as pd

    return [int(v) for v in mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"x": [x]}))]


client = MlflowClient()
mlflow.set_experiment("compat-registry-" + SUFFIX)
with mlflow.start_run() as run:
    where = {"name": "model"} if MAJOR >= 3 else {"artifact_path": "model"}
    info = mlflow.pyfunc.log_model(python_model=AddN(1), registered_model_name=NAME, **where)
run_id = run.info.run_id
mv2 = mlflow.register_model(f"runs:/{run_id}/model", NAME)

client.set_registered_model_alias(NAME, "champion", mv2.version)
client.set_registered_model_tag(NAME, "team", "skiff")
client.set_model_version_tag(NAME, "1", "k", "v")
client.update_registered_model(NAME, description="registry description")
client.update_model_version(NAME, "1", description="first")
client.transition_model_version_stage(NAME, "1", "Production")
client.transition_model_version_stage(NAME, "2", "production", archive_existing_versions=True)

v1 = client.get_model_version(NAME, "1")
rm = client.get_registered_model(NAME)
out = {
    "versions": [str(getattr(info, "registered_model_version", "1")), mv2.version],
    "v1_run_id": v1.run_id == run_id,
    "v1_stage": v1.current_stage,
    "v1_tags": v1.tags,
    "v1_description": v1.description,
    "v1_source": v1.source,
    "links": json.loads(client.get_logged_model(info.model_id).tags.get(
        "mlflow.modelVersions", "[]")) if MAJOR >= 3 else [],
    "model_id": getattr(info, "model_id", None),
    "latest_production": [v.version for v in client.get_latest_versions(NAME, ["Production"])],
    "by_alias": client.get_model_version_by_alias(NAME, "champion").version,
    "rm_aliases": dict(rm.aliases),
    "rm_tags": rm.tags,
    "rm_description": rm.description,
    "rm_latest": sorted((v.version, v.current_stage) for v in rm.latest_versions),
    "download_uri": client.get_model_version_download_uri(NAME, "2"),
    "predict_alias": predict(f"models:/{NAME}@champion", 1),
    "predict_version": predict(f"models:/{NAME}/1", 2),
    "predict_stage": predict(f"models:/{NAME}/Production", 3),
    "search_name": [m.name for m in client.search_registered_models(f"name = '{NAME}'")],
    "search_like": NAME in [m.name for m in client.search_registered_models(
        f"name LIKE 'compat-reg-{SUFFIX}%'")],
    "search_tag": NAME in [m.name for m in client.search_registered_models(
        "tags.team = 'skiff'", max_results=1000)],
    "search_versions": sorted(v.version for v in client.search_model_versions(
        f"name = '{NAME}'")),
    "search_versions_run": sorted(v.version for v in client.search_model_versions(
        f"run_id = '{run_id}'")),
    "duplicate": error_code(lambda: client.create_registered_model(NAME)),
    "missing_model": error_code(lambda: client.get_registered_model(NAME + "-missing")),
    "missing_version": error_code(lambda: client.get_model_version(NAME, "99")),
    "bad_stage": error_code(lambda: client.transition_model_version_stage(NAME, "1", "Prod")),
    "reserved_alias": error_code(lambda: client.set_registered_model_alias(NAME, "latest", "1")),
    "local_source": error_code(lambda: client.create_model_version(NAME, "/etc",
                                                                   run_id=run_id)),
    "traversal_source": error_code(lambda: client.create_model_version(
        NAME, "mlflow-artifacts:/0/..%2f..%2f..%2fetc")),
}

client.delete_model_version_tag(NAME, "1", "k")
client.delete_registered_model_alias(NAME, "champion")
out["alias_gone"] = error_code(lambda: client.get_model_version_by_alias(NAME, "champion"))
client.delete_model_version(NAME, "1")
out["after_delete"] = sorted(v.version for v in client.search_model_versions(
    f"name = '{NAME}'"))
client.rename_registered_model(NAME, NAME + "-renamed")
out["renamed"] = client.get_registered_model(NAME + "-renamed").name
out["renamed_version"] = client.get_model_version(NAME + "-renamed", "2").name
client.delete_registered_model(NAME + "-renamed")
out["deleted"] = error_code(lambda: client.get_registered_model(NAME + "-renamed"))
json.dump(out, sys.stdout)
