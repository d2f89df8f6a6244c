"""Shared by the ``skiff migrate`` tests: a data set written through the store API, and a
snapshot of a store keyed by names (IDs differ between stores) that
``mlflow_scripts/dump_mlflow_store.py`` also produces from a real MLflow client."""

from __future__ import annotations

import math
import os
import sys
from urllib.parse import urlparse

from skiff.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)

OWN_PREFIX = "skiff.migrate."


def fill(store, registry=None, tmp_path=None, tracking_uri=None) -> dict:
    """Experiments, nested and deleted runs, histories, params, tags, an input, artifacts;
    with a registry: models with tags, aliases, a stage and a deleted version."""
    from skiff.artifacts.resolve import get_artifact_repository

    exp = store.create_experiment("project", tags=[ExperimentTag("team", "ml")])
    parent = store.create_run(exp, "ann", 1000, [], "parent")
    child = store.create_run(exp, "ann", 1001, [RunTag("mlflow.parentRunId",
                                                       parent.info.run_id)], "child")
    gone = store.create_run(exp, "bob", 1002, [], "gone")
    for run, n in ((parent, 300), (child, 5), (gone, 2)):
        store.log_batch(run.info.run_id,
                        [Metric("loss", 1.0 / (s + 1), 10 + s, s) for s in range(n)],
                        [Param("lr", "0.1"), Param("depth", "3")], [RunTag("kind", "x")])
    pid = parent.info.run_id
    store.log_metric(pid, Metric("loss", 5.0, 10, 0))  # a repeated step
    store.log_batch(pid, [Metric("odd", math.nan, 5, 1), Metric("odd", math.inf, 6, 2)], [], [])
    store.log_inputs(child.info.run_id, [DatasetInput(
        Dataset("train", "d1", "local", '{"uri": "/data/train.csv"}'),
        [InputTag("mlflow.data.context", "training")])])
    store.update_run_info(pid, RunStatus.FINISHED, 9000, None)
    store.update_run_info(child.info.run_id, RunStatus.FAILED, 8000, None)
    store.delete_run(gone.info.run_id)
    upload = tmp_path / "upload"
    (upload / "model").mkdir(parents=True, exist_ok=True)
    (upload / "model" / "MLmodel").write_text("flavors: {}\n")
    (upload / "notes.txt").write_text("hello")
    get_artifact_repository(parent.info.artifact_uri, tracking_uri).log_artifacts(str(upload))
    old = store.create_experiment("old")
    store.create_run(old, "ann", 5, [], "ancient")
    store.delete_experiment(old)
    if registry is not None:
        registry.create_registered_model("clf", [RunTag("owner", "ann")], "a classifier")
        registry.create_model_version("clf", f"runs:/{pid}/model", pid, [RunTag("v", "one")],
                                      None, "first")
        registry.create_model_version("clf", f"runs:/{pid}/model", pid)
        registry.create_model_version("clf", f"{parent.info.artifact_uri}/model", pid, [],
                                      "http://example/run", "third")
        registry.delete_model_version("clf", "2")
        registry.transition_model_version_stage("clf", "3", "Production", False)
        registry.set_registered_model_alias("clf", "champion", "3")
        registry.set_model_version_tag("clf", "3", RunTag("validated", "yes"))
        registry.create_registered_model("empty")
    return {"experiment_id": exp, "old_id": old, "parent": pid}


def _number(value) -> str:
    """Values as text; MLflow's SQL store hands infinities back as the largest double."""
    if value is not None and not math.isnan(value) and abs(value) == sys.float_info.max:
        value = math.copysign(math.inf, value)
    return repr(value)


def _path(uri: str) -> str:
    parts = urlparse(uri)
    return os.path.normpath(parts.path if parts.scheme == "file" else uri) if (
        parts.scheme in ("", "file")) else uri.rstrip("/")


def _artifact_files(uri, tracking_uri, path=""):
    from skiff.artifacts.resolve import get_artifact_repository

    out = []
    for info in get_artifact_repository(uri, tracking_uri).list_artifacts(path or None):
        out += _artifact_files(uri, tracking_uri, info.path) if info.is_dir else [info.path]
    return sorted(out)


def _source(source: str, run_names: dict, run_roots: dict, model_names: dict) -> str:
    """A model-version source with IDs and locations replaced by names."""
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/"):].partition("/")
        return f"runs:/<{run_names.get(run_id, run_id)}>/{path}"
    if source.startswith("models:/"):
        model_id = source[len("models:/"):]
        return f"models:/<{model_names.get(model_id, model_id)}>"
    for root, name in run_roots.items():
        if _path(source).startswith(root + "/"):
            return f"<artifacts of {name}>{_path(source)[len(root):]}"
    return source


def snapshot(store, registry=None, tracking_uri=None, artifacts=True) -> dict:
    experiments, run_names, run_roots, model_names = {}, {}, {}, {}
    exps = list(store.search_experiments(ViewType.ALL, max_results=1000))
    all_runs = {exp.experiment_id: list(store.search_runs(
        [exp.experiment_id], "", ViewType.ALL, 1000)) for exp in exps}
    for runs in all_runs.values():
        for run in runs:
            run_names[run.info.run_id] = run.info.run_name
            run_roots[_path(run.info.artifact_uri)] = run.info.run_name
    for exp in exps:
        runs = {}
        for run in all_runs[exp.experiment_id]:
            tags = {k: v for k, v in run.data.tags.items() if not k.startswith(OWN_PREFIX)}
            if "mlflow.parentRunId" in tags:
                tags["mlflow.parentRunId"] = run_names[tags["mlflow.parentRunId"]]
            history = {k: [[m.step, m.timestamp, _number(m.value)] for m in
                           store.get_metric_history(run.info.run_id, k)]
                       for k in run.data.metrics}
            inputs = sorted([d.dataset.name, d.dataset.digest, d.dataset.source_type,
                             d.dataset.source, d.dataset.schema, d.dataset.profile,
                             sorted([t.key, t.value] for t in d.tags)]
                            for d in run.inputs.dataset_inputs)
            runs[run.info.run_name] = {
                "status": run.info.status, "start_time": run.info.start_time,
                "end_time": run.info.end_time, "user_id": run.info.user_id,
                "stage": run.info.lifecycle_stage, "tags": tags, "params": run.data.params,
                "history": history, "inputs": inputs,
                "artifacts": _artifact_files(run.info.artifact_uri, tracking_uri)
                if artifacts else None}
        try:
            for model in store.search_logged_models([exp.experiment_id], max_results=100):
                model_names[model.model_id] = model.name
        except Exception:  # noqa: BLE001 - stores without logged models
            pass
        experiments[exp.name] = {"stage": exp.lifecycle_stage, "tags": exp.tags, "runs": runs}
    out = {"experiments": experiments}
    if registry is not None:
        out["registry"] = _registry_snapshot(registry, run_names, run_roots, model_names)
    return out


def _registry_snapshot(registry, run_names, run_roots, model_names) -> dict:
    models = {}
    for found in registry.search_registered_models(max_results=1000):
        model = registry.get_registered_model(found.name)
        versions = {}
        for mv in registry.search_model_versions(f"name = '{model.name}'", max_results=1000):
            versions[str(mv.version)] = {
                "stage": mv.current_stage, "description": mv.description or "",
                "tags": {k: v for k, v in mv.tags.items() if not k.startswith(OWN_PREFIX)},
                "run": run_names.get(mv.run_id, mv.run_id), "run_link": mv.run_link or "",
                "source": _source(mv.source, run_names, run_roots, model_names)}
        models[model.name] = {"description": model.description or "", "tags": model.tags,
                              "aliases": {k: str(v) for k, v in model.aliases.items()},
                              "versions": versions}
    return models
