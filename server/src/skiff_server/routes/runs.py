"""runs/*: create, get, update, delete, restore, search and everything logged to a run."""

from __future__ import annotations

import json
import sys
import time

from flask import Blueprint

from skiff.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    ModelInput,
    ModelOutput,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff.errors import SkiffException
from skiff.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_THRESHOLD
from skiff.validation import (
    MAX_BATCH_LOG_REQUEST_SIZE,
    validate_batch,
    validate_batch_limits,
    validate_dataset_input,
    validate_max_results,
    validate_metric,
    validate_param,
    validate_run_id,
    validate_tag,
)
from skiff_server.request import (
    FLOAT,
    INT,
    LIST_DICT,
    LIST_STR,
    STR,
    field,
    get_params,
)
from skiff_server.response import empty, json_response, paged_dicts
from skiff_server.state import tracking_store

bp = Blueprint("runs", __name__)

RUN_ID = {"run_id": STR, "run_uuid": STR}


def _run_id(p: dict) -> str:
    validate_run_id(p["run_id"])
    return p["run_id"]


def _run_tags(items: list[dict], where: str = "tags") -> list[RunTag]:
    out = []
    for i, item in enumerate(items):
        key = field(item, "key", STR, True, f"{where}[{i}]")
        value = field(item, "value", STR, False, f"{where}[{i}]")
        out.append(RunTag(key, "" if value is None else value))
    return out


@bp.route("/runs/create", methods=["POST"])
def create_run():
    p = get_params({"experiment_id": STR, "user_id": STR, "run_name": STR,
                    "start_time": INT, "tags": LIST_DICT})
    tags = _run_tags(p.get("tags", []))
    tags = [RunTag(t.key, validate_tag(t.key, t.value)) for t in tags]
    run = tracking_store().create_run(
        experiment_id=p.get("experiment_id") or "0",
        user_id=p.get("user_id", ""),
        start_time=p.get("start_time", int(time.time() * 1000)),
        tags=tags,
        run_name=p.get("run_name") or None,
    )
    return json_response({"run": run.to_dict()})


@bp.route("/runs/get", methods=["GET"])
def get_run():
    p = get_params(RUN_ID, ["run_id"])
    return json_response({"run": tracking_store().get_run(_run_id(p)).to_dict()})


@bp.route("/runs/update", methods=["POST"])
def update_run():
    p = get_params({**RUN_ID, "status": RunStatus, "end_time": INT, "run_name": STR},
                   ["run_id"])
    store = tracking_store()
    run_id = _run_id(p)
    status = p.get("status")
    if status is None:
        status = store.get_run(run_id).info.status
    else:
        status = RunStatus.to_string(status)
    info = store.update_run_info(run_id, status, p.get("end_time"), p.get("run_name") or None)
    return json_response({"run_info": info.to_dict()})


@bp.route("/runs/delete", methods=["POST"])
def delete_run():
    p = get_params(RUN_ID, ["run_id"])
    tracking_store().delete_run(_run_id(p))
    return empty()


@bp.route("/runs/restore", methods=["POST"])
def restore_run():
    p = get_params(RUN_ID, ["run_id"])
    tracking_store().restore_run(_run_id(p))
    return empty()


def _metric(item: dict, where: str, run_id: str | None = None) -> Metric:
    key = field(item, "key", STR, True, where)
    value = field(item, "value", FLOAT, True, where)
    timestamp = field(item, "timestamp", INT, True, where)
    step = field(item, "step", INT, False, where) or 0
    validate_metric(key, value, timestamp, step)
    return Metric(key, value, timestamp, step,
                  dataset_name=field(item, "dataset_name", STR, False, where),
                  dataset_digest=field(item, "dataset_digest", STR, False, where),
                  model_id=field(item, "model_id", STR, False, where),
                  run_id=run_id if field(item, "model_id", STR, False, where) else None)


_PLAIN_METRIC_FIELDS = frozenset(("key", "value", "timestamp", "step"))
_DOUBLE_MAX = int(sys.float_info.max)  # a larger integer value is reported by _metric


def _metrics(raw: list, run_id: str) -> list[Metric]:
    """A batch's metrics: plain, well-typed points (nearly all of them) are built directly;
    the rest go through ``_metric``, which names a bad field. Key names and values are
    checked for the whole batch afterwards by ``validate_batch``."""
    out = []
    for i, item in enumerate(raw):
        if item.keys() <= _PLAIN_METRIC_FIELDS:
            key, value = item.get("key"), item.get("value")
            timestamp, step = item.get("timestamp"), item.get("step", 0)
            if (type(key) is str and key and (type(value) is float or (
                    type(value) is int and -_DOUBLE_MAX <= value <= _DOUBLE_MAX))
                    and type(timestamp) is int and type(step) is int):
                out.append(Metric(key, float(value), timestamp, step))
                continue
        out.append(_metric(item, f"metrics[{i}]", run_id))
    return out


@bp.route("/runs/log-metric", methods=["POST"])
def log_metric():
    p = get_params({**RUN_ID, "key": STR, "value": FLOAT, "timestamp": INT, "step": INT,
                    "model_id": STR, "dataset_name": STR, "dataset_digest": STR},
                   ["run_id", "key"], present=["value", "timestamp"])
    run_id = _run_id(p)
    metric = Metric(p["key"], p["value"], p["timestamp"], p.get("step", 0),
                    dataset_name=p.get("dataset_name"), dataset_digest=p.get("dataset_digest"),
                    model_id=p.get("model_id"), run_id=run_id if p.get("model_id") else None)
    validate_metric(metric.key, metric.value, metric.timestamp, metric.step)
    tracking_store().log_metric(run_id, metric)
    return empty()


@bp.route("/runs/log-parameter", methods=["POST"])
def log_param():
    p = get_params({**RUN_ID, "key": STR, "value": STR}, ["run_id", "key"], present=["value"])
    value = validate_param(p["key"], p["value"])
    tracking_store().log_param(_run_id(p), Param(p["key"], value))
    return empty()


@bp.route("/runs/set-tag", methods=["POST"])
def set_tag():
    p = get_params({**RUN_ID, "key": STR, "value": STR}, ["run_id", "key"], present=["value"])
    value = validate_tag(p["key"], p["value"])
    tracking_store().set_tag(_run_id(p), RunTag(p["key"], value))
    return empty()


@bp.route("/runs/delete-tag", methods=["POST"])
def delete_tag():
    p = get_params({**RUN_ID, "key": STR}, ["run_id", "key"])
    tracking_store().delete_tag(_run_id(p), p["key"])
    return empty()


@bp.route("/runs/log-batch", methods=["POST"])
def log_batch():
    p = get_params({**RUN_ID, "metrics": LIST_DICT, "params": LIST_DICT, "tags": LIST_DICT},
                   ["run_id"], limit=MAX_BATCH_LOG_REQUEST_SIZE)
    run_id = _run_id(p)
    raw_metrics, raw_params, raw_tags = (p.get(k, []) for k in ("metrics", "params", "tags"))
    # Counts first: an oversized batch is refused before any item is even decoded.
    validate_batch_limits(raw_metrics, [Param(str(i), "") for i in range(len(raw_params))],
                          raw_tags)
    metrics = _metrics(raw_metrics, run_id)
    params = []
    for i, item in enumerate(raw_params):
        key = field(item, "key", STR, True, f"params[{i}]")
        value = field(item, "value", STR, False, f"params[{i}]")
        params.append(Param(key, "" if value is None else value))
    tags = _run_tags(raw_tags)
    params, tags = validate_batch(metrics, params, tags)
    tracking_store().log_batch(run_id, metrics, params, tags)
    return empty()


@bp.route("/runs/search", methods=["POST"])
def search_runs():
    p = get_params({"experiment_ids": LIST_STR, "filter": STR, "run_view_type": ViewType,
                    "max_results": INT, "order_by": LIST_STR, "page_token": STR})
    experiment_ids = p.get("experiment_ids") or []
    max_results = validate_max_results(p.get("max_results", SEARCH_MAX_RESULTS_DEFAULT),
                                       SEARCH_MAX_RESULTS_THRESHOLD)
    if not experiment_ids:
        return json_response({})
    page = tracking_store().search_runs_as_dicts(
        experiment_ids, p.get("filter") or "", p.get("run_view_type", ViewType.ACTIVE_ONLY),
        max_results, p.get("order_by") or None, p.get("page_token") or None)
    return paged_dicts("runs", page, page.token)


@bp.route("/runs/log-model", methods=["POST"])
def log_model():
    p = get_params({**RUN_ID, "model_json": STR}, ["run_id", "model_json"])
    try:
        model = json.loads(p["model_json"])
    except ValueError:
        raise SkiffException.invalid_parameter_value("model_json is not valid JSON") from None
    if not isinstance(model, dict):
        raise SkiffException.invalid_parameter_value("model_json must be a JSON object")
    for key in ("artifact_path", "flavors", "utc_time_created", "run_id"):
        if key not in model:
            raise SkiffException.invalid_parameter_value(
                f"Model json is missing mandatory fields: ['{key}']")
    store = tracking_store()
    run_id = _run_id(p)
    if hasattr(store, "record_logged_model"):
        store.record_logged_model(run_id, model)
    else:  # MLflow keeps the history in this tag
        history = store.get_run(run_id).data.tags.get("mlflow.log-model.history")
        entries = json.loads(history) if history else []
        entries.append(model)
        store.set_tag(run_id, RunTag("mlflow.log-model.history", json.dumps(entries)))
    return empty()


@bp.route("/runs/log-inputs", methods=["POST"])
def log_inputs():
    p = get_params({**RUN_ID, "datasets": LIST_DICT, "models": LIST_DICT}, ["run_id"])
    datasets = []
    for i, item in enumerate(p.get("datasets", [])):
        where = f"datasets[{i}]"
        raw = field(item, "dataset", "object", True, where)
        ds = Dataset(
            name=field(raw, "name", STR, True, f"{where}.dataset"),
            digest=field(raw, "digest", STR, True, f"{where}.dataset"),
            source_type=field(raw, "source_type", STR, True, f"{where}.dataset"),
            source=field(raw, "source", STR, True, f"{where}.dataset"),
            schema=field(raw, "schema", STR, False, f"{where}.dataset"),
            profile=field(raw, "profile", STR, False, f"{where}.dataset"),
        )
        tags = [InputTag(t.key, t.value) for t in _run_tags(item.get("tags") or [],
                                                            f"{where}.tags")]
        dataset_input = DatasetInput(ds, tags)
        validate_dataset_input(dataset_input)
        datasets.append(dataset_input)
    models = [ModelInput(field(m, "model_id", STR, True, f"models[{i}]"))
              for i, m in enumerate(p.get("models", []))]
    tracking_store().log_inputs(_run_id(p), datasets=datasets, models=models or None)
    return empty()


@bp.route("/runs/outputs", methods=["POST"])
def log_outputs():
    p = get_params({**RUN_ID, "models": LIST_DICT}, ["run_id"])
    models = [ModelOutput(field(m, "model_id", STR, True, f"models[{i}]"),
                          field(m, "step", INT, False, f"models[{i}]") or 0)
              for i, m in enumerate(p.get("models", []))]
    tracking_store().log_outputs(_run_id(p), models)
    return empty()
