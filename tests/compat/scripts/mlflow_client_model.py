"""Driven by tests/compat: a 3.x client logs a tiny PythonModel (logged models, artifacts
through the proxy) to the server at MLFLOW_TRACKING_URI and loads it back."""

import json
import os
import sys

import mlflow
import mlflow.pyfunc


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return [x + self.n for x in model_input["x"]]


mlflow.set_experiment("compat-models-" + os.environ.get("COMPAT_SUFFIX", "0"))
with mlflow.start_run() as run:
    mlflow.log_param("n", 3)
    mlflow.log_metric("score", 0.9)
    info = mlflow.pyfunc.log_model(name="model", python_model=AddN(3))

import pandas as pd  # noqa: E402

loaded = mlflow.pyfunc.load_model(info.model_uri)
prediction = list(loaded.predict(pd.DataFrame({"x": [1, 2]})))
by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
client = mlflow.MlflowClient()
model = client.get_logged_model(info.model_id)
found = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id],
                                    output_format="list")
out = {
    "model_uri": info.model_uri,
    "model_id": info.model_id,
    "prediction": [int(x) for x in prediction],
    "by_run": [int(x) for x in by_run.predict(pd.DataFrame({"x": [10]}))],
    "status": str(model.status),
    "source_run_id": model.source_run_id == run.info.run_id,
    "searched": [m.model_id for m in found],
    "outputs": [o.model_id for o in client.get_run(run.info.run_id).outputs.model_outputs],
}
json.dump(out, sys.stdout)
