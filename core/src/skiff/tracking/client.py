"""``skiff.Client`` (alias ``MlflowClient``): the explicit, ID-based tracking API.

Method names and arguments are MLflow's ``MlflowClient``'s. Each call goes to the tracking
store for the client's URI (resolved through the store plugins) or to the artifact
repository for the run's artifact URI.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import time

from skiff.entities import (
    FileInfo,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff.errors import SkiffException
from skiff.tracking import _stores
from skiff.tracking._artifact_files import write_figure, write_image
from skiff.validation import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
)

PARENT_RUN_ID_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
NOTE_TAG = "mlflow.note.content"


def _now_ms() -> int:
    return int(time.time() * 1000)


class Client:
    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None):
        self._tracking_uri = tracking_uri or _stores.get_tracking_uri()
        self._registry_uri = registry_uri

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def _store(self):
        return _stores.get_tracking_store(self._tracking_uri)

    # -- experiments -----------------------------------------------------------------------
    def create_experiment(self, name, artifact_location=None, tags=None) -> str:
        tag_list = [RunTag(str(k), str(v)) for k, v in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, tag_list)

    def get_experiment(self, experiment_id):
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name):
        return self._store.get_experiment_by_name(name)

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY, max_results=1000,
                           filter_string=None, order_by=None, page_token=None):
        return self._store.search_experiments(ViewType.coerce(view_type), max_results,
                                              filter_string, order_by, page_token)

    def rename_experiment(self, experiment_id, new_name):
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id):
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id):
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id, key, value):
        from skiff.entities import ExperimentTag

        self._store.set_experiment_tag(str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id, key):
        self._store.delete_experiment_tag(str(experiment_id), key)

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, experiment_id, start_time=None, tags=None, run_name=None):
        tags = {str(k): str(v) for k, v in (tags or {}).items()}
        user_id = tags.get(USER_TAG) or _default_user()
        tag_list = [RunTag(k, v) for k, v in tags.items()]
        return self._store.create_run(
            experiment_id=str(experiment_id),
            user_id=user_id,
            start_time=start_time if start_time is not None else _now_ms(),
            tags=tag_list,
            run_name=run_name,
        )

    def get_run(self, run_id):
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id):
        parent_id = self.get_run(run_id).data.tags.get(PARENT_RUN_ID_TAG)
        return self.get_run(parent_id) if parent_id else None

    def update_run(self, run_id, status=None, name=None):
        run = self.get_run(run_id) if status is None else None
        status_name = run.info.status if run is not None else _status_name(status)
        self._store.update_run_info(run_id, status_name, None, name)

    def set_terminated(self, run_id, status=None, end_time=None):
        self._store.update_run_info(run_id, _status_name(status or "FINISHED"),
                                    end_time if end_time is not None else _now_ms(), None)

    def delete_run(self, run_id):
        self._store.delete_run(run_id)

    def restore_run(self, run_id):
        self._store.restore_run(run_id)

    def search_runs(self, experiment_ids, filter_string="", run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=1000, order_by=None, page_token=None):
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        return self._store.search_runs([str(e) for e in experiment_ids], filter_string or "",
                                       ViewType.coerce(run_view_type), max_results, order_by,
                                       page_token)

    # -- logging -----------------------------------------------------------------------------
    def log_param(self, run_id, key, value, synchronous=None):
        if _is_async(synchronous):
            return _async_queue().enqueue(self._store, run_id, params=[Param(key, str(value))])
        self._store.log_param(run_id, Param(key, _param_str(value)))
        return value

    def log_metric(self, run_id, key, value, timestamp=None, step=None, synchronous=None,
                   dataset_name=None, dataset_digest=None, model_id=None):
        metric = Metric(key, _metric_value(value), timestamp if timestamp is not None else _now_ms(),
                        step or 0, dataset_name, dataset_digest, model_id)
        if _is_async(synchronous):
            return _async_queue().enqueue(self._store, run_id, metrics=[metric])
        self._store.log_metric(run_id, metric)

    def set_tag(self, run_id, key, value, synchronous=None):
        tag = RunTag(key, str(value))
        if _is_async(synchronous):
            return _async_queue().enqueue(self._store, run_id, tags=[tag])
        self._store.set_tag(run_id, tag)

    def delete_tag(self, run_id, key):
        self._store.delete_tag(run_id, key)

    def log_batch(self, run_id, metrics=(), params=(), tags=(), synchronous=None):
        metrics, params, tags = list(metrics), list(params), list(tags)
        if _is_async(synchronous):
            return _async_queue().enqueue(self._store, run_id, metrics, params, tags)
        for m_chunk, p_chunk, t_chunk in split_batch(metrics, params, tags):
            self._store.log_batch(run_id, m_chunk, p_chunk, t_chunk)

    def get_metric_history(self, run_id, key):
        return list(self._store.get_metric_history(run_id, key))

    def log_inputs(self, run_id, datasets=None, models=None):
        self._store.log_inputs(run_id, datasets or [], models)

    def log_outputs(self, run_id, models):
        self._store.log_outputs(run_id, models)

    # -- artifacts ---------------------------------------------------------------------------
    def _artifact_repo(self, run_id):
        from skiff.artifacts.resolve import get_artifact_repository

        artifact_uri = self.get_run(run_id).info.artifact_uri
        return get_artifact_repository(artifact_uri, self._tracking_uri, self._registry_uri)

    def log_artifact(self, run_id, local_path, artifact_path=None):
        repo = self._artifact_repo(run_id)
        if os.path.isdir(local_path):
            name = os.path.basename(os.path.normpath(local_path))
            dest = posixpath.join(artifact_path, name) if artifact_path else name
            repo.log_artifacts(local_path, dest)
        else:
            repo.log_artifact(local_path, artifact_path)

    def log_artifacts(self, run_id, local_dir, artifact_path=None):
        self._artifact_repo(run_id).log_artifacts(local_dir, artifact_path)

    def _log_file_content(self, run_id, artifact_file, write):
        directory, name = posixpath.split(artifact_file)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, name)
            write(local)
            self._artifact_repo(run_id).log_artifact(local, directory or None)

    def log_text(self, run_id, text, artifact_file):
        def write(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

        self._log_file_content(run_id, artifact_file, write)

    def log_dict(self, run_id, dictionary, artifact_file):
        def write(path):
            with open(path, "w", encoding="utf-8") as f:
                if artifact_file.endswith((".yaml", ".yml")):
                    import yaml

                    yaml.safe_dump(dictionary, f, default_flow_style=False, sort_keys=False)
                else:
                    json.dump(dictionary, f, indent=2)

        self._log_file_content(run_id, artifact_file, write)

    def log_figure(self, run_id, figure, artifact_file, *, save_kwargs=None):
        self._log_file_content(run_id, artifact_file,
                               lambda path: write_figure(figure, path, save_kwargs))

    def log_image(self, run_id, image, artifact_file=None, key=None, step=None, timestamp=None,
                  synchronous=None):
        if artifact_file is None:
            if key is None:
                raise SkiffException.invalid_parameter_value(
                    "log_image needs either artifact_file or key")
            step = step or 0
            safe_key = key.replace("/", "#")
            artifact_file = f"images/{safe_key}%step%{step}%timestamp%{timestamp or _now_ms()}.png"
        self._log_file_content(run_id, artifact_file, lambda path: write_image(image, path))

    def list_artifacts(self, run_id, path=None) -> list[FileInfo]:
        return self._artifact_repo(run_id).list_artifacts(path)

    def download_artifacts(self, run_id, path, dst_path=None) -> str:
        if dst_path is not None:
            os.makedirs(dst_path, exist_ok=True)
        return self._artifact_repo(run_id).download_artifacts(path, dst_path)

    # -- logged models (MLflow 3.x) -------------------------------------------------------------
    def create_logged_model(self, experiment_id, name=None, source_run_id=None, tags=None,
                            params=None, model_type=None):
        tag_list = [RunTag(str(k), str(v)) for k, v in (tags or {}).items()]
        param_list = [Param(str(k), str(v)) for k, v in (params or {}).items()]
        return self._store.create_logged_model(str(experiment_id), name, source_run_id,
                                               tag_list, param_list, model_type)

    def get_logged_model(self, model_id):
        return self._store.get_logged_model(model_id)

    def finalize_logged_model(self, model_id, status):
        return self._store.finalize_logged_model(model_id, status)

    def delete_logged_model(self, model_id):
        self._store.delete_logged_model(model_id)

    def set_logged_model_tags(self, model_id, tags):
        self._store.set_logged_model_tags(
            model_id, [RunTag(str(k), str(v)) for k, v in tags.items()])

    def delete_logged_model_tag(self, model_id, key):
        self._store.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id, params):
        self._store.log_logged_model_params(
            model_id, [Param(str(k), str(v)) for k, v in params.items()])

    def _logged_model_repo(self, model_id):
        from skiff.artifacts.resolve import get_artifact_repository

        location = self.get_logged_model(model_id).artifact_location
        return get_artifact_repository(location, self._tracking_uri, self._registry_uri)

    def log_model_artifact(self, model_id, local_path, artifact_path=None):
        self._logged_model_repo(model_id).log_artifact(local_path, artifact_path)

    def log_model_artifacts(self, model_id, local_dir, artifact_path=None):
        self._logged_model_repo(model_id).log_artifacts(local_dir, artifact_path)

    def list_logged_model_artifacts(self, model_id, path=None):
        return self._logged_model_repo(model_id).list_artifacts(path)

    def search_logged_models(self, experiment_ids, filter_string=None, datasets=None,
                             max_results=None, order_by=None, page_token=None):
        return self._store.search_logged_models([str(e) for e in experiment_ids], filter_string,
                                                datasets, max_results, order_by, page_token)

    # -- model registry: provided by a registry store plugin ------------------------------------
    def __getattr__(self, name):
        from skiff.tracking import _registry_methods

        method = _registry_methods.bind(self, name)
        if method is None:
            raise AttributeError(f"'Client' object has no attribute {name!r}")
        return method


MlflowClient = Client


def _default_user() -> str:
    from skiff._builtin.run_context import _user

    return _user()


def _status_name(status) -> str:
    if isinstance(status, int):
        return RunStatus.to_string(status)
    return RunStatus.to_string(RunStatus.from_string(status))


def _param_str(value) -> str:
    return str(value)


def _metric_value(value) -> float:
    try:
        import numbers

        if isinstance(value, bool) or not isinstance(value, numbers.Number):
            # numpy scalars are Numbers; anything else (strings, None) is refused by the store
            return value
        return float(value)
    except (TypeError, ValueError):
        return value


def split_batch(metrics, params, tags):
    """Split into chunks that respect MLflow's per-request limits."""
    if (len(metrics) <= MAX_METRICS_PER_BATCH and len(params) <= MAX_PARAMS_TAGS_PER_BATCH
            and len(tags) <= MAX_PARAMS_TAGS_PER_BATCH
            and len(metrics) + len(params) + len(tags) <= MAX_ENTITIES_PER_BATCH):
        yield metrics, params, tags
        return
    for i in range(0, len(params), MAX_PARAMS_TAGS_PER_BATCH):
        yield [], params[i:i + MAX_PARAMS_TAGS_PER_BATCH], []
    for i in range(0, len(tags), MAX_PARAMS_TAGS_PER_BATCH):
        yield [], [], tags[i:i + MAX_PARAMS_TAGS_PER_BATCH]
    for i in range(0, len(metrics), MAX_METRICS_PER_BATCH):
        yield metrics[i:i + MAX_METRICS_PER_BATCH], [], []


def _is_async(synchronous) -> bool:
    if synchronous is None:
        from skiff.env import get_env_bool

        return get_env_bool("ENABLE_ASYNC_LOGGING")
    return not synchronous


def _async_queue():
    from skiff.tracking.async_logging import get_async_queue

    return get_async_queue()
