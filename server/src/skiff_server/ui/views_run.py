"""One run: overview, description, params, metrics with sparklines, tags, inputs; editing of
tags, description and name; delete and restore."""

from __future__ import annotations

from flask import request, url_for

from skiff.entities import RunTag
from skiff.errors import SkiffException
from skiff_server.ui import svgplots
from skiff_server.ui.blueprint import now_ms, page, redirect_back, tracking_store

NOTE_TAG = "mlflow.note.content"
SPARKLINE_POINTS = 60
MAX_SPARKLINES = 50


def add_routes(bp) -> None:
    bp.add_url_rule("/runs/<run_id>", "run_page", run_page)
    bp.add_url_rule("/runs/<run_id>/tags", "run_set_tag", set_tag, methods=["POST"])
    bp.add_url_rule("/runs/<run_id>/tags/delete", "run_delete_tag", delete_tag,
                    methods=["POST"])
    bp.add_url_rule("/runs/<run_id>/description", "run_description", set_description,
                    methods=["POST"])
    bp.add_url_rule("/runs/<run_id>/rename", "run_rename", rename, methods=["POST"])
    bp.add_url_rule("/runs/<run_id>/delete", "run_delete", delete, methods=["POST"])
    bp.add_url_rule("/runs/<run_id>/restore", "run_restore", restore, methods=["POST"])


def _sparklines(store, run) -> dict[str, str]:
    lines = {}
    for metric in sorted(run.data.metric_objs, key=lambda m: m.key)[:MAX_SPARKLINES]:
        try:
            points = store.get_metric_history_bulk_interval(
                [run.info.run_id], metric.key, max_results=SPARKLINE_POINTS)
        except SkiffException:
            continue
        lines[metric.key] = svgplots.sparkline([(p.step, p.value) for p in points])
    return lines


def run_page(run_id):
    store = tracking_store()
    run = store.get_run(run_id)
    experiment = store.get_experiment(run.info.experiment_id)
    tags = run.data.tags
    user_tags = sorted((k, v) for k, v in tags.items() if not k.startswith("mlflow."))
    system_tags = sorted((k, v) for k, v in tags.items() if k.startswith("mlflow."))
    parent = tags.get("mlflow.parentRunId")
    children_url = url_for("skiff_ui.experiment_runs", experiment_id=experiment.experiment_id,
                           filter=f"tags.mlflow.parentRunId = '{run_id}'")
    metrics = sorted(run.data.metric_objs, key=lambda m: m.key)
    artifacts, artifacts_error = [], None
    try:
        from skiff_server.artifact_access import repository_for
        from skiff_server.ui.views_artifacts import listing

        artifacts = listing(repository_for(run.info.artifact_uri), "")
    except Exception as exc:  # an unreachable artifact store must not hide the run
        artifacts_error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return page(
        "run.html", title=run.info.run_name or run_id, run=run, info=run.info,
        experiment=experiment, description=tags.get(NOTE_TAG, ""), user_tags=user_tags,
        system_tags=system_tags, params=sorted(run.data.params.items()), metrics=metrics,
        sparklines=_sparklines(store, run), parent=parent, children_url=children_url,
        source=tags.get("mlflow.source.name"), now=now_ms(),
        git_commit=tags.get("mlflow.source.git.commit"), artifacts=artifacts,
        artifacts_error=artifacts_error,
    )


def _back(run_id):
    return url_for("skiff_ui.run_page", run_id=run_id)


def set_tag(run_id):
    key = (request.form.get("key") or "").strip()
    value = request.form.get("value") or ""
    try:
        if not key:
            raise SkiffException.invalid_parameter_value("A tag needs a key.")
        tracking_store().set_tag(run_id, RunTag(key, value))
    except SkiffException as exc:
        return redirect_back(_back(run_id), exc.message)
    return redirect_back(_back(run_id))


def delete_tag(run_id):
    try:
        tracking_store().delete_tag(run_id, request.form.get("key") or "")
    except SkiffException as exc:
        return redirect_back(_back(run_id), exc.message)
    return redirect_back(_back(run_id))


def set_description(run_id):
    try:
        tracking_store().set_tag(run_id, RunTag(NOTE_TAG, request.form.get("description", "")))
    except SkiffException as exc:
        return redirect_back(_back(run_id), exc.message)
    return redirect_back(_back(run_id))


def rename(run_id):
    name = (request.form.get("name") or "").strip()
    store = tracking_store()
    try:
        if not name:
            raise SkiffException.invalid_parameter_value("The new name must not be empty.")
        info = store.get_run(run_id).info
        store.update_run_info(run_id, info.status, info.end_time, name)
    except SkiffException as exc:
        return redirect_back(_back(run_id), exc.message)
    return redirect_back(_back(run_id))


def delete(run_id):
    try:
        tracking_store().delete_run(run_id)
    except SkiffException as exc:
        return redirect_back(_back(run_id), exc.message)
    return redirect_back(_back(run_id))


def restore(run_id):
    try:
        tracking_store().restore_run(run_id)
    except SkiffException as exc:
        return redirect_back(_back(run_id), exc.message)
    return redirect_back(_back(run_id))
