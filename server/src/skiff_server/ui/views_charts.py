"""Metric charts: several runs overlaid; the browser asks for a point budget and gets each
run's series downsampled by the store (``get_metric_history_bulk_interval``)."""

from __future__ import annotations

import math

from flask import request, url_for

from skiff.errors import SkiffException
from skiff_server.response import json_response
from skiff_server.ui import svgplots
from skiff_server.ui.blueprint import arg_list, page, tracking_store

MAX_RUNS = 100
DEFAULT_POINTS = 1000
MAX_POINTS = 10000


def add_routes(bp) -> None:
    bp.add_url_rule("/charts", "charts", charts)
    bp.add_url_rule("/_ui/api/series", "api_series", api_series)


def load_runs(run_ids: list[str]):
    """The chosen runs (at most MAX_RUNS), each fetched by ID; unknown IDs raise."""
    if not run_ids:
        raise SkiffException.invalid_parameter_value(
            "Select one or more runs first (the checkboxes of the runs table).")
    if len(run_ids) > MAX_RUNS:
        raise SkiffException.invalid_parameter_value(
            f"At most {MAX_RUNS} runs can be shown together; {len(run_ids)} were selected.")
    store = tracking_store()
    return [store.get_run(run_id) for run_id in run_ids]


def chart_runs(runs) -> list[dict]:
    return [{"id": r.info.run_id, "name": r.info.run_name or r.info.run_id[:8],
             "color": svgplots.color(i),
             "url": url_for("skiff_ui.run_page", run_id=r.info.run_id)}
            for i, r in enumerate(runs)]


def charts():
    runs = load_runs(arg_list("run"))
    keys = sorted({m.key for r in runs for m in r.data.metric_objs})
    chosen = [k for k in request.args.getlist("key") if k in keys] or keys[:1]
    return page("charts.html", title="Metric charts", runs=runs, keys=keys, chosen=chosen,
                chart_runs=chart_runs(runs), run_ids=[r.info.run_id for r in runs],
                x=request.args.get("x", "step"), smooth=request.args.get("smooth", "0"),
                log=request.args.get("log") == "1",
                points=request.args.get("points", str(DEFAULT_POINTS)))


def _int_arg(name: str, default=None, lo=None, hi=None):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise SkiffException.invalid_parameter_value(
            f"'{name}' must be a number, got {raw!r}.") from None
    if lo is not None:
        value = max(lo, value)
    if hi is not None:
        value = min(hi, value)
    return value


def _clean(value: float):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def api_series():
    run_ids = arg_list("run")
    key = request.args.get("key")
    if not run_ids or not key:
        raise SkiffException.invalid_parameter_value("Give run=ID (repeatable) and key=METRIC.")
    if len(run_ids) > MAX_RUNS:
        raise SkiffException.invalid_parameter_value(f"At most {MAX_RUNS} runs per request.")
    points = _int_arg("points", DEFAULT_POINTS, 2, MAX_POINTS)
    start, end = _int_arg("start"), _int_arg("end")
    history = tracking_store().get_metric_history_bulk_interval(
        run_ids, key, max_results=points, start_step=start, end_step=end)
    series = {run_id: {"run_id": run_id, "steps": [], "timestamps": [], "values": []}
              for run_id in run_ids}
    for metric in sorted(history, key=lambda m: (m.step, m.timestamp)):
        entry = series.get(getattr(metric, "run_id", None))
        if entry is None:
            continue
        entry["steps"].append(metric.step)
        entry["timestamps"].append(metric.timestamp)
        entry["values"].append(_clean(metric.value))
    return json_response({"key": key, "points": points, "series": list(series.values())})
