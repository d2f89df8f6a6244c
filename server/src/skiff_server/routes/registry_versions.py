"""model-versions/*: create (with the source checks of :mod:`.registry_sources`), get,
update, transition-stage, delete, search, get-download-uri, tags; and the UI helper
``/model-versions/get-artifact`` that serves one file of a version."""

from __future__ import annotations

from flask import Blueprint

from skiff.entities import RunTag
from skiff.entities.registry import canonical_stage
from skiff.errors import SkiffException
from skiff.store.registry import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
)
from skiff.store.registry_rules import validate_registry_tag, validate_version
from skiff.validation import validate_max_results, validate_relative_path
from skiff_server.request import BOOL, INT, LIST_DICT, LIST_STR, STR, get_params
from skiff_server.response import empty, json_response, paged
from skiff_server.routes.registry import registry_store, registry_tags
from skiff_server.routes.registry_sources import (
    check_new_source,
    link_logged_model,
    readable_location,
    resolve_location,
)

bp = Blueprint("model_versions", __name__)
artifact_bp = Blueprint("model_version_artifacts", __name__)

VERSION = {"name": STR, "version": STR}


def _version_params(schema: dict | None = None, required=(), **kw) -> dict:
    p = get_params({**VERSION, **(schema or {})}, ["name", "version", *required], **kw)
    validate_version(p["version"])
    return p


def _answer(mv):
    return json_response({"model_version": mv.to_dict()})


@bp.route("/model-versions/create", methods=["POST"])
def create_model_version():
    p = get_params({"name": STR, "source": STR, "run_id": STR, "tags": LIST_DICT,
                    "run_link": STR, "description": STR, "model_id": STR},
                   ["name", "source"])
    tags = registry_tags(p.get("tags", []))
    store = registry_store()
    store.get_registered_model(p["name"])  # an unknown model is a 404 before source checks
    source, run_id, model_id = check_new_source(
        p["source"], p.get("run_id") or None, p.get("model_id") or None)
    mv = store.create_model_version(p["name"], source, run_id, tags, p.get("run_link") or None,
                                    p.get("description"), model_id)
    if model_id:
        link_logged_model(model_id, mv.name, mv.version)
    return _answer(mv)


@bp.route("/model-versions/get", methods=["GET"])
def get_model_version():
    p = _version_params()
    return _answer(registry_store().get_model_version(p["name"], p["version"]))


@bp.route("/model-versions/update", methods=["PATCH"])
def update_model_version():
    p = _version_params({"description": STR})
    store = registry_store()
    if "description" not in p:
        return _answer(store.get_model_version(p["name"], p["version"]))
    return _answer(store.update_model_version(p["name"], p["version"], p["description"]))


@bp.route("/model-versions/transition-stage", methods=["POST"])
def transition_model_version_stage():
    p = _version_params({"stage": STR, "archive_existing_versions": BOOL}, ["stage"])
    stage = canonical_stage(p["stage"])
    mv = registry_store().transition_model_version_stage(
        p["name"], p["version"], stage, bool(p.get("archive_existing_versions", False)))
    return _answer(mv)


@bp.route("/model-versions/delete", methods=["DELETE"])
def delete_model_version():
    p = _version_params()
    registry_store().delete_model_version(p["name"], p["version"])
    return empty()


@bp.route("/model-versions/search", methods=["GET"])
def search_model_versions():
    p = get_params({"filter": STR, "max_results": INT, "order_by": LIST_STR,
                    "page_token": STR})
    max_results = validate_max_results(
        p.get("max_results", SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD),
        SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD)
    page = registry_store().search_model_versions(
        p.get("filter") or None, max_results, p.get("order_by") or None,
        p.get("page_token") or None)
    return paged("model_versions", page)


@bp.route("/model-versions/get-download-uri", methods=["GET"])
def get_model_version_download_uri():
    p = _version_params()
    uri = registry_store().get_model_version_download_uri(p["name"], p["version"])
    return json_response({"artifact_uri": resolve_location(uri)})


@bp.route("/model-versions/set-tag", methods=["POST"])
def set_model_version_tag():
    p = _version_params({"key": STR, "value": STR}, ["key"], present=["value"])
    validate_registry_tag(p["key"], p["value"])
    registry_store().set_model_version_tag(p["name"], p["version"],
                                           RunTag(p["key"], p["value"]))
    return empty()


@bp.route("/model-versions/delete-tag", methods=["DELETE"])
def delete_model_version_tag():
    p = _version_params({"key": STR}, ["key"])
    registry_store().delete_model_version_tag(p["name"], p["version"], p["key"])
    return empty()


@artifact_bp.route("/model-versions/get-artifact", methods=["GET"])
def get_model_version_artifact():
    """One file of a version's artifacts; ``presigned=true`` answers a signed URL instead
    when the repository can sign."""
    from skiff_server.artifact_access import repository_for
    from skiff_server.streaming import download_response

    p = _version_params({"path": STR, "presigned": BOOL}, ["path"])
    path = validate_relative_path(p["path"])
    if not path:
        raise SkiffException.invalid_parameter_value("Invalid path: an artifact file is needed")
    mv = registry_store().get_model_version(p["name"], p["version"])
    repo = repository_for(readable_location(mv))
    if p.get("presigned"):
        sign = getattr(repo.repo, "presigned_download_url", None)
        if sign is None:
            raise SkiffException("Presigned URLs are not supported for the artifact "
                                 "repository of this model version", "NOT_IMPLEMENTED")
        url, headers = sign(repo._full(path), 900)
        return json_response({"url": url, "headers": headers or {}})
    return download_response(repo, path)
