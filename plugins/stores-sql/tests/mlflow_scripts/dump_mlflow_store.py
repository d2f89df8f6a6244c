"""Run with a real MLflow: prints, as JSON, what the tracking URI in argv[1] holds, in the
shape of ``migrate_data.snapshot`` (names instead of IDs), as MLflow itself reads it."""

import json
import math
import os
import sys
from urllib.parse import urlparse

from mlflow import MlflowClient
from mlflow.entities import ViewType

client = MlflowClient(sys.argv[1])
OWN_PREFIX = "skiff.migrate."


def number(value):
    if value is not None and not math.isnan(value) and abs(value) == sys.float_info.max:
        value = math.copysign(math.inf, value)
    return repr(value)


def local(uri):
    parts = urlparse(uri)
    if parts.scheme in ("", "file"):
        return os.path.normpath(parts.path if parts.scheme == "file" else uri)
    return uri.rstrip("/")


def files(run_id, path=None):
    out = []
    for info in client.list_artifacts(run_id, path):
        out += files(run_id, info.path) if info.is_dir else [info.path]
    return sorted(out)


exps = client.search_experiments(view_type=ViewType.ALL, max_results=1000)
runs_of = {e.experiment_id: client.search_runs([e.experiment_id], "", ViewType.ALL, 1000)
           for e in exps}
names = {r.info.run_id: r.info.run_name for runs in runs_of.values() for r in runs}
roots = {local(r.info.artifact_uri): r.info.run_name for runs in runs_of.values() for r in runs}
model_names = {}
experiments = {}
for exp in exps:
    runs = {}
    for run in runs_of[exp.experiment_id]:
        tags = dict(run.data.tags)
        if "mlflow.parentRunId" in tags:
            tags["mlflow.parentRunId"] = names[tags["mlflow.parentRunId"]]
        history = {k: [[m.step, m.timestamp, number(m.value)]
                       for m in client.get_metric_history(run.info.run_id, k)]
                   for k in run.data.metrics}
        inputs = sorted([d.dataset.name, d.dataset.digest, d.dataset.source_type,
                         d.dataset.source, d.dataset.schema, d.dataset.profile,
                         sorted([t.key, t.value] for t in d.tags)]
                        for d in run.inputs.dataset_inputs)
        runs[run.info.run_name] = {
            "status": run.info.status, "start_time": run.info.start_time,
            "end_time": run.info.end_time, "user_id": run.info.user_id,
            "stage": run.info.lifecycle_stage, "tags": tags, "params": run.data.params,
            "history": history, "inputs": inputs, "artifacts": files(run.info.run_id)}
    for model in client.search_logged_models([exp.experiment_id]):
        model_names[model.model_id] = model.name
    experiments[exp.name] = {"stage": exp.lifecycle_stage, "tags": exp.tags, "runs": runs}


def source(text):
    if text.startswith("runs:/"):
        run_id, _, path = text[len("runs:/"):].partition("/")
        return f"runs:/<{names.get(run_id, run_id)}>/{path}"
    if text.startswith("models:/"):
        model_id = text[len("models:/"):]
        return f"models:/<{model_names.get(model_id, model_id)}>"
    for root, name in roots.items():
        if local(text).startswith(root + "/"):
            return f"<artifacts of {name}>{local(text)[len(root):]}"
    return text


registry = {}
for found in client.search_registered_models(max_results=1000):
    model = client.get_registered_model(found.name)
    versions = {}
    for mv in client.search_model_versions(f"name = '{model.name}'", max_results=1000):
        versions[str(mv.version)] = {
            "stage": mv.current_stage, "description": mv.description or "",
            "tags": {k: v for k, v in mv.tags.items() if not k.startswith(OWN_PREFIX)},
            "run": names.get(mv.run_id, mv.run_id), "run_link": mv.run_link or "",
            "source": source(mv.source)}
    registry[model.name] = {"description": model.description or "", "tags": model.tags,
                            "aliases": {k: str(v) for k, v in model.aliases.items()},
                            "versions": versions}
print(json.dumps({"experiments": experiments, "registry": registry}))
