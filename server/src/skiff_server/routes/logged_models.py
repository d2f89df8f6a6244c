"""logged-models/*: MLflow 3.x's logged models (create, finalize, get, search, tags...)."""

from __future__ import annotations

from flask import Blueprint

from skiff.entities import LoggedModelParameter, LoggedModelStatus, RunTag
from skiff.errors import SkiffException
from skiff_server.request import INT, LIST_DICT, LIST_STR, STR, field, get_params
from skiff_server.response import empty, json_response
from skiff_server.routes.artifacts import list_files
from skiff_server.state import tracking_store

bp = Blueprint("logged_models", __name__)


def _kv(items: list[dict], where: str, cls=RunTag):
    out = []
    for i, item in enumerate(items):
        key = field(item, "key", STR, True, f"{where}[{i}]")
        value = field(item, "value", STR, False, f"{where}[{i}]")
        out.append(cls(key, "" if value is None else value))
    return out


@bp.route("/logged-models", methods=["POST"])
def create_logged_model():
    p = get_params({"experiment_id": STR, "name": STR, "model_type": STR,
                    "source_run_id": STR, "params": LIST_DICT, "tags": LIST_DICT},
                   ["experiment_id"])
    model = tracking_store().create_logged_model(
        experiment_id=p["experiment_id"], name=p.get("name") or None,
        source_run_id=p.get("source_run_id") or None,
        tags=_kv(p.get("tags", []), "tags"),
        params=_kv(p.get("params", []), "params", LoggedModelParameter),
        model_type=p.get("model_type") or None)
    return json_response({"model": model.to_dict()})


@bp.route("/logged-models/search", methods=["POST"])
def search_logged_models():
    p = get_params({"experiment_ids": LIST_STR, "filter": STR, "datasets": LIST_DICT,
                    "max_results": INT, "order_by": LIST_DICT, "page_token": STR})
    max_results = p.get("max_results", 50)
    if max_results <= 0:
        raise SkiffException.invalid_parameter_value(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer")
    page = tracking_store().search_logged_models(
        experiment_ids=p.get("experiment_ids") or [], filter_string=p.get("filter") or None,
        datasets=p.get("datasets") or None, max_results=max_results,
        order_by=p.get("order_by") or None, page_token=p.get("page_token") or None)
    out = {}
    if page:
        out["models"] = [m.to_dict() for m in page]
    if getattr(page, "token", None):
        out["next_page_token"] = page.token
    return json_response(out)


@bp.route("/logged-models/<model_id>", methods=["GET"])
def get_logged_model(model_id):
    return json_response({"model": tracking_store().get_logged_model(model_id).to_dict()})


@bp.route("/logged-models/<model_id>", methods=["PATCH"])
def finalize_logged_model(model_id):
    p = get_params({"model_id": STR, "status": LoggedModelStatus}, present=["status"])
    status = LoggedModelStatus.to_string(p["status"])
    model = tracking_store().finalize_logged_model(model_id, status)
    return json_response({"model": model.to_dict()})


@bp.route("/logged-models/<model_id>", methods=["DELETE"])
def delete_logged_model(model_id):
    tracking_store().delete_logged_model(model_id)
    return empty()


@bp.route("/logged-models/<model_id>/tags", methods=["PATCH"])
def set_logged_model_tags(model_id):
    p = get_params({"model_id": STR, "tags": LIST_DICT})
    store = tracking_store()
    store.set_logged_model_tags(model_id, _kv(p.get("tags", []), "tags"))
    return json_response({"model": store.get_logged_model(model_id).to_dict()})


@bp.route("/logged-models/<model_id>/tags/<path:tag_key>", methods=["DELETE"])
def delete_logged_model_tag(model_id, tag_key):
    tracking_store().delete_logged_model_tag(model_id, tag_key)
    return empty()


@bp.route("/logged-models/<model_id>/params", methods=["POST"])
def log_logged_model_params(model_id):
    p = get_params({"model_id": STR, "params": LIST_DICT})
    tracking_store().log_logged_model_params(
        model_id, _kv(p.get("params", []), "params", LoggedModelParameter))
    return empty()


@bp.route("/logged-models/<model_id>/artifacts/directories", methods=["GET"])
def list_logged_model_artifacts(model_id):
    p = get_params({"artifact_directory_path": STR, "page_token": STR})
    model = tracking_store().get_logged_model(model_id)
    return json_response(list_files(model.artifact_location, p.get("artifact_directory_path")))


