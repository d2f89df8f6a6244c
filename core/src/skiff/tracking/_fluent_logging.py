"""Fluent functions that log to the active run (or to ``run_id`` where MLflow accepts it)."""

from __future__ import annotations

import time

from skiff.entities import Metric, Param, RunTag, ViewType
from skiff.errors import SkiffException
from skiff.tracking.async_logging import flush_async_logging  # noqa: F401 (re-exported)


def _fluent():
    from skiff.tracking import fluent

    return fluent


def _client():
    return _fluent()._client()


def _run_id(run_id=None) -> str:
    return _fluent()._active_run_id(run_id)


def log_param(key, value, synchronous=None):
    return _client().log_param(_run_id(), key, value, synchronous=synchronous)


def log_params(params, synchronous=None, run_id=None):
    _client().log_batch(_run_id(run_id), params=[Param(str(k), str(v)) for k, v in params.items()],
                        synchronous=synchronous)


def log_metric(key, value, step=None, synchronous=None, timestamp=None, run_id=None,
               model_id=None, dataset=None):
    name, digest = _dataset_ref(dataset)
    return _client().log_metric(_run_id(run_id), key, value, timestamp=timestamp, step=step,
                                synchronous=synchronous, dataset_name=name,
                                dataset_digest=digest, model_id=model_id)


def log_metrics(metrics, step=None, synchronous=None, run_id=None, timestamp=None,
                model_id=None, dataset=None):
    from skiff.tracking.client import _metric_value

    ts = timestamp if timestamp is not None else int(time.time() * 1000)
    name, digest = _dataset_ref(dataset)
    objs = [Metric(k, _metric_value(v), ts, step or 0, name, digest, model_id)
            for k, v in metrics.items()]
    return _client().log_batch(_run_id(run_id), metrics=objs, synchronous=synchronous)


def _dataset_ref(dataset):
    if dataset is None:
        return None, None
    return getattr(dataset, "name", None), getattr(dataset, "digest", None)


def set_tag(key, value, synchronous=None):
    return _client().set_tag(_run_id(), key, value, synchronous=synchronous)


def set_tags(tags, synchronous=None):
    return _client().log_batch(_run_id(), tags=[RunTag(str(k), str(v)) for k, v in tags.items()],
                               synchronous=synchronous)


def delete_tag(key):
    _client().delete_tag(_run_id(), key)


def log_artifact(local_path, artifact_path=None, run_id=None):
    _client().log_artifact(_run_id(run_id), local_path, artifact_path)


def log_artifacts(local_dir, artifact_path=None, run_id=None):
    _client().log_artifacts(_run_id(run_id), local_dir, artifact_path)


def log_text(text, artifact_file, run_id=None):
    _client().log_text(_run_id(run_id), text, artifact_file)


def log_dict(dictionary, artifact_file, run_id=None):
    _client().log_dict(_run_id(run_id), dictionary, artifact_file)


def log_figure(figure, artifact_file, *, save_kwargs=None):
    _client().log_figure(_run_id(), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(image, artifact_file=None, key=None, step=None, timestamp=None, synchronous=False):
    _client().log_image(_run_id(), image, artifact_file, key, step, timestamp, synchronous)


def get_artifact_uri(artifact_path=None) -> str:
    from skiff.utils.uri import append_to_uri_path

    run = _client().get_run(_run_id())
    uri = run.info.artifact_uri
    return append_to_uri_path(uri, artifact_path) if artifact_path else uri


def _dataset_input(dataset, context=None, tags=None):
    from skiff.entities import Dataset, DatasetInput, InputTag

    if hasattr(dataset, "_to_mlflow_entity"):  # MLflow / Skiff dataset objects
        dataset = dataset._to_mlflow_entity()
    if not isinstance(dataset, Dataset):
        if hasattr(dataset, "to_dict"):
            dataset = Dataset.from_dict(dataset.to_dict())
        else:
            raise SkiffException.invalid_parameter_value(
                f"log_input expects a Dataset, got {type(dataset).__name__}")
    input_tags = [InputTag(str(k), str(v)) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag("mlflow.data.context", context))
    return DatasetInput(dataset, input_tags)


def log_input(dataset=None, context=None, tags=None, model=None):
    from skiff.entities import ModelInput

    datasets = [_dataset_input(dataset, context, tags)] if dataset is not None else []
    models = [ModelInput(model.model_id)] if model is not None else None
    _client().log_inputs(_run_id(), datasets, models)


def log_inputs(datasets=None, contexts=None, tags_list=None, models=None):
    from skiff.entities import ModelInput

    datasets = datasets or []
    contexts = contexts or [None] * len(datasets)
    tags_list = tags_list or [None] * len(datasets)
    inputs = [_dataset_input(d, c, t) for d, c, t in zip(datasets, contexts, tags_list)]
    model_inputs = [ModelInput(m.model_id) for m in models] if models else None
    _client().log_inputs(_run_id(), inputs, model_inputs)


def search_runs(experiment_ids=None, filter_string="", run_view_type=ViewType.ACTIVE_ONLY,
                max_results=100000, order_by=None, output_format="pandas",
                search_all_experiments=False, experiment_names=None):
    """Runs matching the filter, as a pandas DataFrame (MLflow's columns) or, with
    ``output_format="list"``, as Run objects."""
    client = _client()
    if experiment_names:
        experiment_ids = list(experiment_ids or [])
        for name in experiment_names:
            experiment = client.get_experiment_by_name(name)
            if experiment is not None:
                experiment_ids.append(experiment.experiment_id)
    elif not experiment_ids:
        if search_all_experiments:
            experiment_ids = [e.experiment_id for e in
                              _fluent().search_experiments(view_type=ViewType.ALL)]
        else:
            experiment_ids = [_fluent()._current_experiment_id()]
    if isinstance(experiment_ids, (str, int)):
        experiment_ids = [experiment_ids]
    runs, token = [], None
    while len(runs) < max_results:
        page = client.search_runs(experiment_ids, filter_string, run_view_type,
                                  min(50000, max_results - len(runs)), order_by, token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    if output_format != "pandas":
        raise SkiffException.invalid_parameter_value(
            f"Unsupported output format {output_format!r}: use 'pandas' or 'list'")
    from skiff.tracking._runs_frame import runs_to_frame

    return runs_to_frame(runs)
