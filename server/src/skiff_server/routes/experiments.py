"""experiments/*: create, get, get-by-name, search, delete, restore, update, tags."""

from __future__ import annotations

from flask import Blueprint

from skiff.entities import ExperimentTag, ViewType
from skiff.errors import SkiffException
from skiff.store.tracking import SEARCH_MAX_RESULTS_THRESHOLD
from skiff.validation import (
    MAX_ARTIFACT_LOCATION_LENGTH,
    validate_experiment_name,
    validate_experiment_tag,
    validate_max_results,
)
from skiff_server.request import DICT, INT, LIST_DICT, LIST_STR, STR, field, get_params
from skiff_server.response import empty, json_response, paged
from skiff_server.state import tracking_store

bp = Blueprint("experiments", __name__)


def _tags(items: list[dict]) -> list[ExperimentTag]:
    tags = []
    for i, item in enumerate(items):
        key = field(item, "key", STR, True, f"tags[{i}]")
        value = field(item, "value", STR, False, f"tags[{i}]")
        value = "" if value is None else value
        validate_experiment_tag(key, value)
        tags.append(ExperimentTag(key, value))
    return tags


@bp.route("/experiments/create", methods=["POST"])
def create_experiment():
    p = get_params({"name": STR, "artifact_location": STR, "tags": LIST_DICT}, ["name"])
    validate_experiment_name(p["name"])
    location = p.get("artifact_location") or None
    if location is not None and len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise SkiffException.invalid_parameter_value(
            f"artifact_location exceeds the maximum length of {MAX_ARTIFACT_LOCATION_LENGTH}")
    if location is not None:
        _check_location(location)
    experiment_id = tracking_store().create_experiment(
        p["name"], location, _tags(p.get("tags", [])))
    return json_response({"experiment_id": str(experiment_id)})


def _check_location(location: str) -> None:
    """Refuse locations that hide traversal (MLflow 3.x checks the same)."""
    from urllib.parse import unquote

    decoded = unquote(unquote(location))
    if "\x00" in decoded or ".." in decoded.replace("\\", "/").split("/"):
        raise SkiffException.invalid_parameter_value(
            f"Invalid artifact_location {location!r}: it must not contain '..' segments")


@bp.route("/experiments/get", methods=["GET"])
def get_experiment():
    p = get_params({"experiment_id": STR}, ["experiment_id"])
    experiment = tracking_store().get_experiment(p["experiment_id"])
    return json_response({"experiment": experiment.to_dict()})


@bp.route("/experiments/get-by-name", methods=["GET"])
def get_experiment_by_name():
    p = get_params({"experiment_name": STR}, ["experiment_name"])
    experiment = tracking_store().get_experiment_by_name(p["experiment_name"])
    if experiment is None:
        raise SkiffException(
            f"Could not find experiment with name '{p['experiment_name']}'",
            "RESOURCE_DOES_NOT_EXIST")
    return json_response({"experiment": experiment.to_dict()})


@bp.route("/experiments/search", methods=["GET", "POST"])
def search_experiments():
    p = get_params({"max_results": INT, "page_token": STR, "filter": STR,
                    "order_by": LIST_STR, "view_type": ViewType})
    max_results = validate_max_results(p.get("max_results", 0), SEARCH_MAX_RESULTS_THRESHOLD)
    page = tracking_store().search_experiments(
        view_type=p.get("view_type", ViewType.ACTIVE_ONLY), max_results=max_results,
        filter_string=p.get("filter") or None, order_by=p.get("order_by") or None,
        page_token=p.get("page_token") or None)
    return paged("experiments", page)


@bp.route("/experiments/delete", methods=["POST"])
def delete_experiment():
    p = get_params({"experiment_id": STR}, ["experiment_id"])
    tracking_store().delete_experiment(p["experiment_id"])
    return empty()


@bp.route("/experiments/restore", methods=["POST"])
def restore_experiment():
    p = get_params({"experiment_id": STR}, ["experiment_id"])
    tracking_store().restore_experiment(p["experiment_id"])
    return empty()


@bp.route("/experiments/update", methods=["POST"])
def update_experiment():
    p = get_params({"experiment_id": STR, "new_name": STR}, ["experiment_id", "new_name"])
    validate_experiment_name(p["new_name"])
    tracking_store().rename_experiment(p["experiment_id"], p["new_name"])
    return empty()


@bp.route("/experiments/set-experiment-tag", methods=["POST"])
def set_experiment_tag():
    p = get_params({"experiment_id": STR, "key": STR, "value": STR},
                   ["experiment_id", "key"], present=["value"])
    validate_experiment_tag(p["key"], p["value"])
    tracking_store().set_experiment_tag(p["experiment_id"], ExperimentTag(p["key"], p["value"]))
    return empty()


@bp.route("/experiments/delete-experiment-tag", methods=["POST"])
def delete_experiment_tag():
    p = get_params({"experiment_id": STR, "key": STR}, ["experiment_id", "key"])
    tracking_store().delete_experiment_tag(p["experiment_id"], p["key"])
    return empty()


@bp.route("/experiments/search-datasets", methods=["POST"])
def search_datasets():
    p = get_params({"experiment_ids": LIST_STR, "filter": DICT})
    store = tracking_store()
    finder = getattr(store, "_search_datasets", None) or getattr(store, "search_datasets", None)
    if finder is None or not p.get("experiment_ids"):
        return json_response({})
    summaries = finder(p["experiment_ids"])
    out = [s.to_dict() if hasattr(s, "to_dict") else s for s in summaries]
    return json_response({"dataset_summaries": out} if out else {})
