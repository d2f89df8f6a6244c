"""Compare runs, also from different experiments: a diff table of params, metrics and tags,
parallel coordinates, a scatter of any two values, and overlaid metric charts."""

from __future__ import annotations

from flask import request, url_for

from skiff_server.ui import svgplots
from skiff_server.ui.blueprint import arg_list, page, tracking_store
from skiff_server.ui.views_charts import DEFAULT_POINTS, chart_runs, load_runs

PARALLEL_PARAMS = 6
PARALLEL_METRICS = 3


def add_routes(bp) -> None:
    bp.add_url_rule("/compare", "compare", compare)


def _section(runs, getter) -> list[dict]:
    keys = sorted({k for r in runs for k in getter(r)})
    rows = []
    for key in keys:
        values = [getter(r).get(key) for r in runs]
        rows.append({"key": key, "values": values, "differs": len(set(values)) > 1})
    return rows


def _values(run) -> dict:
    out = {f"params.{k}": v for k, v in run.data.params.items()}
    out.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
    return out


def compare():
    runs = load_runs(arg_list("run"))
    store = tracking_store()
    experiments = {}
    for r in runs:
        if r.info.experiment_id not in experiments:
            experiments[r.info.experiment_id] = store.get_experiment(r.info.experiment_id).name
    only_diff = request.args.get("diff") == "1"
    sections = {
        "Parameters": _section(runs, lambda r: r.data.params),
        "Metrics": _section(runs, lambda r: r.data.metrics),
        "Tags": _section(runs, lambda r: {k: v for k, v in r.data.tags.items()
                                          if not k.startswith("mlflow.")}),
    }
    colors = {r.info.run_id: svgplots.color(i) for i, r in enumerate(runs)}
    values = {r.info.run_id: _values(r) for r in runs}
    all_keys = sorted({k for v in values.values() for k in v})
    differing = [f"params.{row['key']}" for row in sections["Parameters"] if row["differs"]]
    metric_keys = [f"metrics.{row['key']}" for row in sections["Metrics"]]
    axes = [a for a in request.args.getlist("axis") if a in all_keys] or (
        differing[:PARALLEL_PARAMS] + metric_keys[:PARALLEL_METRICS])
    label = {r.info.run_id: r.info.run_name or r.info.run_id[:8] for r in runs}
    parallel = svgplots.parallel(axes, [
        {"label": label[r.info.run_id], "color": colors[r.info.run_id],
         "values": values[r.info.run_id]} for r in runs])
    numeric = [k for k in all_keys
               if all(svgplots.as_float(v[k]) is not None for v in values.values() if k in v)]
    common = [k for k in numeric if all(k in v for v in values.values())]
    x_key = request.args.get("sx") if request.args.get("sx") in numeric else next(
        (k for k in differing + common if k in common), None)
    y_key = request.args.get("sy") if request.args.get("sy") in numeric else next(
        (k for k in metric_keys + common if k in common and k != x_key), None)
    scatter = None
    if x_key and y_key:
        scatter = svgplots.scatter([
            (svgplots.as_float(values[r.info.run_id].get(x_key)),
             svgplots.as_float(values[r.info.run_id].get(y_key)), label[r.info.run_id],
             url_for("skiff_ui.run_page", run_id=r.info.run_id)) for r in runs])
    metric_names = [row["key"] for row in sections["Metrics"]]
    chosen = [k for k in request.args.getlist("key") if k in metric_names] or metric_names[:1]
    return page(
        "compare.html", title="Compare runs", runs=runs, experiments=experiments,
        sections=sections, only_diff=only_diff, colors=colors, parallel=parallel, axes=axes,
        all_keys=all_keys, numeric=numeric, x_key=x_key, y_key=y_key, scatter=scatter,
        chart_runs=chart_runs(runs), run_ids=[r.info.run_id for r in runs], chosen=chosen,
        metric_names=metric_names, x="step", smooth="0", log=False,
        points=str(DEFAULT_POINTS))
