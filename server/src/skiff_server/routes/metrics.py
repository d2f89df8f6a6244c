"""metrics/*: one metric's history (paged) and the sampled bulk history of several runs."""

from __future__ import annotations

import json
import math

from flask import Blueprint, Response

from skiff.entities import Metric
from skiff.errors import SkiffException
from skiff.validation import validate_max_results, validate_run_id
from skiff_server.request import INT, LIST_STR, STR, get_params
from skiff_server.response import json_response
from skiff_server.state import tracking_store

bp = Blueprint("metrics", __name__)

MAX_RUNS_BULK = 100
MAX_POINTS_BULK_INTERVAL = 2500
MAX_POINTS_BULK = 25000
HISTORY_MAX_RESULTS = 1_000_000_000


@bp.route("/metrics/get-history", methods=["GET"])
def get_metric_history():
    p = get_params({"run_id": STR, "run_uuid": STR, "metric_key": STR, "page_token": STR,
                    "max_results": INT}, ["run_id", "metric_key"])
    validate_run_id(p["run_id"])
    max_results = p.get("max_results")
    if max_results is not None:
        max_results = validate_max_results(max_results, HISTORY_MAX_RESULTS)
    store, token = tracking_store(), None
    if max_results is None and not p.get("page_token"):
        points = store.get_metric_history_points(p["run_id"], p["metric_key"])
    else:
        page = store.get_metric_history(p["run_id"], p["metric_key"], max_results=max_results,
                                        page_token=p.get("page_token") or None)
        token = getattr(page, "token", None)
        points = [(m.key, m.value, m.timestamp, m.step, m.dataset_name, m.dataset_digest,
                   m.model_id) for m in page]
    if not points:
        return json_response({})
    parts = ['{"metrics":[', ",".join(encode_points(points))]
    parts.append(f'],"next_page_token":{json.dumps(token)}}}' if token else "]}")
    return Response("".join(parts), mimetype="application/json")


def encode_points(points):
    """Metric points, tuples as ``get_metric_history_points`` gives them, as JSON text
    written directly: a history can hold millions of points and building a dict per point
    costs more than the query."""
    keys: dict[str, str] = {}
    for point in points:
        name, value, timestamp, step, dataset_name, dataset_digest, model_id = point[:7]
        if dataset_name is not None or dataset_digest is not None or model_id is not None:
            yield json.dumps(_history_point(point), separators=(",", ":"))
            continue
        key = keys.get(name)
        if key is None:
            key = keys[name] = json.dumps(name)
        if isinstance(value, float) and not math.isfinite(value):
            text = '"NaN"' if math.isnan(value) else ('"Infinity"' if value > 0 else
                                                       '"-Infinity"')
        else:
            text = repr(float(value))
        yield f'{{"key":{key},"value":{text},"timestamp":{int(timestamp)},' \
              f'"step":{int(step)}}}'


def _history_point(point: tuple) -> dict:
    key, value, timestamp, step, dataset_name, dataset_digest, model_id = point[:7]
    return Metric(key, value, timestamp, step, dataset_name, dataset_digest,
                  model_id).to_dict()


def _run_ids(p: dict) -> list[str]:
    run_ids = p.get("run_ids") or p.get("run_id") or []
    if not run_ids:
        raise SkiffException.invalid_parameter_value("GetMetricHistoryBulk request must "
                                                     "specify at least one run_id.")
    if len(run_ids) > MAX_RUNS_BULK:
        raise SkiffException.invalid_parameter_value(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids.")
    for run_id in run_ids:
        validate_run_id(run_id)
    return run_ids


@bp.route("/metrics/get-history-bulk-interval", methods=["GET"])
def get_history_bulk_interval():
    p = get_params({"run_ids": LIST_STR, "metric_key": STR, "start_step": INT,
                    "end_step": INT, "max_results": INT}, ["metric_key"])
    run_ids = _run_ids(p)
    max_results = validate_max_results(p.get("max_results", MAX_POINTS_BULK_INTERVAL),
                                       MAX_POINTS_BULK_INTERVAL)
    start, end = p.get("start_step"), p.get("end_step")
    if (start is None) != (end is None):
        raise SkiffException.invalid_parameter_value(
            "If either start step or end step are specified, both must be specified.")
    if start is not None and start > end:
        raise SkiffException.invalid_parameter_value("end_step must be greater than start_step")
    points = tracking_store().get_metric_history_bulk_interval(
        run_ids, p["metric_key"], max_results, start, end)
    return json_response({"metrics": [m.to_dict() for m in points]} if points else {})


def get_history_bulk():
    """Ajax-only ``metrics/get-history-bulk``: full histories of up to 100 runs, at most
    25,000 points in all (mounted by ``routes.misc``)."""
    p = get_params({"run_id": LIST_STR, "metric_key": STR, "max_results": INT},
                   ["metric_key"])
    run_ids = _run_ids(p)
    limit = validate_max_results(p.get("max_results", MAX_POINTS_BULK), MAX_POINTS_BULK)
    store = tracking_store()
    out = []
    for run_id in run_ids:
        for m in store.get_metric_history(run_id, p["metric_key"]):
            if len(out) >= limit:
                break
            d = m.to_dict()
            d["run_id"] = run_id
            out.append(d)
    out.sort(key=lambda d: (d["run_id"], d.get("timestamp", 0), d.get("step", 0)))
    return json_response({"metrics": out[:limit]} if out else {})
