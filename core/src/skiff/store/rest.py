"""The tracking store for ``http(s)://`` URIs: MLflow's REST API, spoken to a Skiff or an
MLflow tracking server. Transport details (session, retries, auth, TLS) live in
:mod:`skiff.store._http`; ``requests`` is imported on the first call."""

from __future__ import annotations

from urllib.parse import quote

from skiff.entities import (
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunStatus,
    ViewType,
)
from skiff.entities.metric import MetricWithRunId
from skiff.errors import RestException
from skiff.store._http import HttpSettings, call_json
from skiff.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore

API = "/api/2.0/mlflow"


def _kv(items, key_name: str = "key") -> list[dict]:
    """Tags or params given as objects with key/value, or as a dict."""
    if not items:
        return []
    if isinstance(items, dict):
        return [{key_name: str(k), "value": str(v)} for k, v in items.items()]
    return [{key_name: item.key, "value": item.value} for item in items]


def _view_name(view_type) -> str:
    return ViewType.to_string(ViewType.coerce(view_type))


def _status_name(status) -> str:
    if isinstance(status, str) and not status.isdigit():
        return status.upper()
    return RunStatus.to_string(int(status))


class RestStore(TrackingStore):
    """A tracking store that forwards every call to a tracking server."""

    def __init__(self, store_uri: str, artifact_uri: str | None = None):
        super().__init__(store_uri, artifact_uri)
        self._settings: HttpSettings | None = None

    @property
    def settings(self) -> HttpSettings:
        if self._settings is None:
            self._settings = HttpSettings(self.store_uri)
        return self._settings

    def _call(self, method: str, endpoint: str, body: dict | None = None) -> dict:
        clean = None
        if body is not None:
            clean = {k: v for k, v in body.items() if v is not None}
        return call_json(self.settings, method, API + endpoint, clean)

    # -- experiments -------------------------------------------------------------------
    def create_experiment(self, name, artifact_location=None, tags=None):
        body = {"name": name, "artifact_location": artifact_location or None,
                "tags": _kv(tags) or None}
        return self._call("POST", "/experiments/create", body)["experiment_id"]

    def get_experiment(self, experiment_id):
        answer = self._call("GET", "/experiments/get", {"experiment_id": str(experiment_id)})
        return Experiment.from_dict(answer["experiment"])

    def get_experiment_by_name(self, experiment_name):
        try:
            answer = self._call("GET", "/experiments/get-by-name",
                                {"experiment_name": experiment_name})
        except RestException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return Experiment.from_dict(answer["experiment"])

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY,
                           max_results=SEARCH_MAX_RESULTS_DEFAULT, filter_string=None,
                           order_by=None, page_token=None):
        body = {"view_type": _view_name(view_type), "max_results": max_results,
                "filter": filter_string or None, "order_by": list(order_by or []) or None,
                "page_token": page_token or None}
        answer = self._call("POST", "/experiments/search", body)
        items = [Experiment.from_dict(e) for e in answer.get("experiments", [])]
        return PagedList(items, answer.get("next_page_token"))

    def delete_experiment(self, experiment_id):
        self._call("POST", "/experiments/delete", {"experiment_id": str(experiment_id)})

    def restore_experiment(self, experiment_id):
        self._call("POST", "/experiments/restore", {"experiment_id": str(experiment_id)})

    def rename_experiment(self, experiment_id, new_name):
        self._call("POST", "/experiments/update",
                   {"experiment_id": str(experiment_id), "new_name": new_name})

    def set_experiment_tag(self, experiment_id, tag):
        self._call("POST", "/experiments/set-experiment-tag",
                   {"experiment_id": str(experiment_id), "key": tag.key, "value": tag.value})

    def delete_experiment_tag(self, experiment_id, key):
        self._call("POST", "/experiments/delete-experiment-tag",
                   {"experiment_id": str(experiment_id), "key": key})

    # -- runs --------------------------------------------------------------------------
    def create_run(self, experiment_id, user_id, start_time, tags, run_name):
        body = {"experiment_id": str(experiment_id), "user_id": user_id,
                "start_time": start_time, "tags": _kv(tags) or None,
                "run_name": run_name or None}
        return Run.from_dict(self._call("POST", "/runs/create", body)["run"])

    def get_run(self, run_id):
        answer = self._call("GET", "/runs/get", {"run_id": run_id, "run_uuid": run_id})
        return Run.from_dict(answer["run"])

    def update_run_info(self, run_id, run_status, end_time, run_name):
        body = {"run_id": run_id, "run_uuid": run_id, "end_time": end_time,
                "run_name": run_name or None,
                "status": _status_name(run_status) if run_status is not None else None}
        return RunInfo.from_dict(self._call("POST", "/runs/update", body)["run_info"])

    def delete_run(self, run_id):
        self._call("POST", "/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id):
        self._call("POST", "/runs/restore", {"run_id": run_id})

    def log_batch(self, run_id, metrics, params, tags):
        body = {"run_id": run_id, "metrics": [m.to_dict() for m in metrics] or None,
                "params": _kv(params) or None, "tags": _kv(tags) or None}
        self._call("POST", "/runs/log-batch", body)

    def log_metric(self, run_id, metric):
        body = {**metric.to_dict(), "run_id": run_id, "run_uuid": run_id}
        self._call("POST", "/runs/log-metric", body)

    def log_param(self, run_id, param):
        self._call("POST", "/runs/log-parameter",
                   {"run_id": run_id, "run_uuid": run_id, "key": param.key,
                    "value": param.value})

    def set_tag(self, run_id, tag):
        self._call("POST", "/runs/set-tag",
                   {"run_id": run_id, "run_uuid": run_id, "key": tag.key, "value": tag.value})

    def delete_tag(self, run_id, key):
        self._call("POST", "/runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        body = {"run_id": run_id, "run_uuid": run_id, "metric_key": metric_key,
                "max_results": max_results, "page_token": page_token or None}
        answer = self._call("GET", "/metrics/get-history", body)
        points = [Metric.from_dict(m) for m in answer.get("metrics", [])]
        return PagedList(points, answer.get("next_page_token"))

    def get_metric_history_bulk_interval(self, run_ids, metric_key, max_results,
                                         start_step=None, end_step=None):
        body = {"run_ids": list(run_ids), "metric_key": metric_key,
                "max_results": max_results, "start_step": start_step, "end_step": end_step}
        answer = self._call("GET", "/metrics/get-history-bulk-interval", body)
        return [MetricWithRunId(**_metric_kwargs(m)) for m in answer.get("metrics", [])]

    def search_runs(self, experiment_ids, filter_string="", run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=SEARCH_MAX_RESULTS_DEFAULT, order_by=None, page_token=None):
        body = {"experiment_ids": [str(e) for e in experiment_ids],
                "filter": filter_string or None, "run_view_type": _view_name(run_view_type),
                "max_results": max_results, "order_by": list(order_by or []) or None,
                "page_token": page_token or None}
        answer = self._call("POST", "/runs/search", body)
        return PagedList([Run.from_dict(r) for r in answer.get("runs", [])],
                         answer.get("next_page_token"))

    def log_inputs(self, run_id, datasets=None, models=None):
        body = {"run_id": run_id,
                "datasets": [d.to_dict() for d in datasets or []] or None,
                "models": [m.to_dict() for m in models or []] or None}
        self._call("POST", "/runs/log-inputs", body)

    def log_outputs(self, run_id, models):
        self._call("POST", "/runs/outputs",
                   {"run_id": run_id, "models": [m.to_dict() for m in models]})

    def record_logged_model(self, run_id, mlflow_model):
        """MLflow 2.x's model history (``runs/log-model``); ``mlflow_model`` is the MLmodel
        dict or an object with ``to_json()``."""
        import json

        model_json = mlflow_model.to_json() if hasattr(mlflow_model, "to_json") else (
            json.dumps(mlflow_model))
        self._call("POST", "/runs/log-model", {"run_id": run_id, "model_json": model_json})

    # -- logged models -----------------------------------------------------------------
    def create_logged_model(self, experiment_id, name=None, source_run_id=None, tags=None,
                            params=None, model_type=None):
        body = {"experiment_id": str(experiment_id), "name": name,
                "source_run_id": source_run_id, "model_type": model_type,
                "tags": _kv(tags) or None, "params": _kv(params) or None}
        return LoggedModel.from_dict(self._call("POST", "/logged-models", body)["model"])

    def get_logged_model(self, model_id):
        answer = self._call("GET", f"/logged-models/{quote(model_id, safe='')}")
        return LoggedModel.from_dict(answer["model"])

    def finalize_logged_model(self, model_id, status):
        if not (isinstance(status, str) and not status.isdigit()):
            status = LoggedModelStatus.to_string(int(status))
        answer = self._call("PATCH", f"/logged-models/{quote(model_id, safe='')}",
                            {"model_id": model_id, "status": status})
        return LoggedModel.from_dict(answer["model"])

    def delete_logged_model(self, model_id):
        self._call("DELETE", f"/logged-models/{quote(model_id, safe='')}")

    def set_logged_model_tags(self, model_id, tags):
        self._call("PATCH", f"/logged-models/{quote(model_id, safe='')}/tags",
                   {"model_id": model_id, "tags": _kv(tags)})

    def delete_logged_model_tag(self, model_id, key):
        self._call("DELETE", f"/logged-models/{quote(model_id, safe='')}/tags/"
                             f"{quote(key, safe='')}")

    def log_logged_model_params(self, model_id, params):
        self._call("POST", f"/logged-models/{quote(model_id, safe='')}/params",
                   {"model_id": model_id, "params": _kv(params)})

    def search_logged_models(self, experiment_ids, filter_string=None, datasets=None,
                             max_results=None, order_by=None, page_token=None):
        orders = None
        if order_by:
            orders = [o if isinstance(o, dict) else {"field_name": str(o), "ascending": True}
                      for o in order_by]
        body = {"experiment_ids": [str(e) for e in experiment_ids],
                "filter": filter_string or None, "datasets": datasets or None,
                "max_results": max_results, "order_by": orders,
                "page_token": page_token or None}
        answer = self._call("POST", "/logged-models/search", body)
        return PagedList([LoggedModel.from_dict(m) for m in answer.get("models", [])],
                         answer.get("next_page_token"))


def _metric_kwargs(d: dict) -> dict:
    m = Metric.from_dict(d)
    return {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step,
            "dataset_name": m.dataset_name, "dataset_digest": m.dataset_digest,
            "model_id": m.model_id, "run_id": m.run_id}
