"""Experiments: list with search and paging, create, rename, delete and restore."""

from __future__ import annotations

import re

from flask import request, url_for

from skiff.entities import ViewType
from skiff.errors import SkiffException
from skiff_server.ui.blueprint import page, redirect_back, tracking_store

PAGE_SIZE = 100
_VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
# Text that looks like the search grammar is used as a filter; anything else matches names.
_GRAMMAR = re.compile(r"(=|<|>|\bLIKE\b|\bILIKE\b|\bAND\b)", re.IGNORECASE)


def add_routes(bp) -> None:
    bp.add_url_rule("/", "experiments", experiments)
    bp.add_url_rule("/experiments", "experiments_list", experiments)
    bp.add_url_rule("/experiments/create", "experiment_create", create, methods=["POST"])
    bp.add_url_rule("/experiments/<experiment_id>/rename", "experiment_rename", rename,
                    methods=["POST"])
    bp.add_url_rule("/experiments/<experiment_id>/delete", "experiment_delete", delete,
                    methods=["POST"])
    bp.add_url_rule("/experiments/<experiment_id>/restore", "experiment_restore", restore,
                    methods=["POST"])


def search_filter(text: str) -> str:
    text = text.strip()
    if not text or _GRAMMAR.search(text):
        return text
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"name ILIKE '%{escaped}%'"


def experiments():
    query = request.args.get("q", "")
    view = request.args.get("view", "active")
    token = request.args.get("page_token") or None
    back = request.args.getlist("back")
    error = None
    items, next_token = [], None
    try:
        result = tracking_store().search_experiments(
            view_type=_VIEWS.get(view, ViewType.ACTIVE_ONLY), max_results=PAGE_SIZE,
            filter_string=search_filter(query) or None,
            order_by=["last_update_time DESC", "experiment_id ASC"], page_token=token)
        items, next_token = list(result), result.token
    except SkiffException as exc:
        error = exc.message
    base = {"q": query, "view": view}
    next_url = prev_url = None
    if next_token:
        next_url = url_for("skiff_ui.experiments", **base, page_token=next_token,
                           back=[*back, token or ""])
    if back:
        prev_url = url_for("skiff_ui.experiments", **base, page_token=back[-1] or None,
                           back=back[:-1])
    return page("experiments.html", title="Experiments", experiments=items, query=query,
                view=view, search_error=error, next_url=next_url, prev_url=prev_url,
                first=len(back) * PAGE_SIZE)


def create():
    name = (request.form.get("name") or "").strip()
    location = (request.form.get("artifact_location") or "").strip() or None
    default = url_for("skiff_ui.experiments")
    try:
        if not name:
            raise SkiffException.invalid_parameter_value("An experiment needs a name.")
        experiment_id = tracking_store().create_experiment(name, location)
    except SkiffException as exc:
        return redirect_back(default, exc.message)
    return redirect_back(url_for("skiff_ui.experiment_runs", experiment_id=experiment_id))


def rename(experiment_id):
    name = (request.form.get("name") or "").strip()
    try:
        if not name:
            raise SkiffException.invalid_parameter_value("The new name must not be empty.")
        tracking_store().rename_experiment(experiment_id, name)
    except SkiffException as exc:
        return redirect_back(url_for("skiff_ui.experiments"), exc.message)
    return redirect_back(url_for("skiff_ui.experiments"))


def delete(experiment_id):
    try:
        tracking_store().delete_experiment(experiment_id)
    except SkiffException as exc:
        return redirect_back(url_for("skiff_ui.experiments"), exc.message)
    return redirect_back(url_for("skiff_ui.experiments"))


def restore(experiment_id):
    try:
        tracking_store().restore_experiment(experiment_id)
    except SkiffException as exc:
        return redirect_back(url_for("skiff_ui.experiments"), exc.message)
    return redirect_back(url_for("skiff_ui.experiments"))
