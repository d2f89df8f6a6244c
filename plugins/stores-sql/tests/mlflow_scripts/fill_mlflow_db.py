"""Run with a real MLflow 3.17.2: fills the tracking URI in argv[1] (an MLflow SQL database)
with what ``skiff migrate`` must carry, and prints a JSON summary of the IDs it created."""

import json
import math
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

uri, artifact_root = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)

exp_id = client.create_experiment("project", artifact_location=f"{artifact_root}/project",
                                  tags={"team": "ml"})
parent = client.create_run(exp_id, run_name="parent", tags={"kind": "train"})
pid = parent.info.run_id
child = client.create_run(exp_id, run_name="child", tags={"mlflow.parentRunId": pid})
cid = child.info.run_id
gone = client.create_run(exp_id, run_name="gone")
client.log_batch(pid, metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(120)],
                 params=[Param("lr", "0.1"), Param("depth", "3")],
                 tags=[RunTag("mlflow.note.content", "the parent")])
client.log_metric(pid, "loss", 5.0, timestamp=999, step=0)  # a repeated step
client.log_metric(pid, "odd", math.nan, timestamp=5, step=1)
client.log_metric(pid, "odd", math.inf, timestamp=6, step=2)
client.log_metric(cid, "acc", 0.5, timestamp=7, step=0)
client.log_param(cid, "seed", "7")
client.log_inputs(cid, [DatasetInput(
    Dataset("train", "d1", "local", '{"uri": "/data/train.csv"}', '{"mlflow_colspec": []}',
            '{"num_rows": 4}'), [InputTag("mlflow.data.context", "training")])])
with tempfile.TemporaryDirectory() as tmp:
    os.makedirs(os.path.join(tmp, "model"))
    with open(os.path.join(tmp, "model", "MLmodel"), "w") as f:
        f.write("flavors: {}\n")
    with open(os.path.join(tmp, "notes.txt"), "w") as f:
        f.write("hello")
    client.log_artifacts(pid, tmp)
client.set_terminated(pid, "FINISHED", end_time=9000)
client.set_terminated(cid, "FAILED", end_time=8000)
client.delete_run(gone.info.run_id)

old = client.create_experiment("old")
client.create_run(old, run_name="ancient")
client.delete_experiment(old)

client.create_registered_model("clf", tags={"owner": "ann"}, description="a classifier")
v1 = client.create_model_version("clf", f"runs:/{pid}/model", run_id=pid,
                                 tags={"v": "one"}, description="first")
v2 = client.create_model_version("clf", f"{parent.info.artifact_uri}/model", run_id=pid)
v3 = client.create_model_version("clf", f"{parent.info.artifact_uri}/model", run_id=pid,
                                 run_link="http://example/run", description="third")
client.delete_model_version("clf", v2.version)
client.transition_model_version_stage("clf", v3.version, "Production")
client.set_registered_model_alias("clf", "champion", v3.version)
client.set_model_version_tag("clf", v3.version, "validated", "yes")
# An MLflow 3.x logged model, registered as version 4 (source models:/<model_id>).
model = client.create_logged_model(exp_id, name="net", source_run_id=pid, tags={"t": "1"},
                                   params={"p": "2"}, model_type="pyfunc")
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "MLmodel"), "w") as f:
        f.write("flavors: {}\n")
    client.log_model_artifacts(model.model_id, tmp)
client.finalize_logged_model(model.model_id, "READY")
client.create_model_version("clf", f"models:/{model.model_id}", run_id=pid,
                            model_id=model.model_id)
client.create_registered_model("empty")
print(json.dumps({"experiment_id": exp_id, "old_id": old, "parent": pid, "child": cid,
                  "gone": gone.info.run_id, "model_id": model.model_id}))
