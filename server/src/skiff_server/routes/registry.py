"""registered-models/*: create, get, rename, update, delete, search, latest versions, tags
and aliases (one path, three verbs). Updates are PATCH and deletes DELETE with a JSON body,
as in MLflow's registry API."""

from __future__ import annotations

import re

from flask import Blueprint

from skiff.entities import RunTag
from skiff.entities.registry import canonical_stage
from skiff.store.registry import (
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
)
from skiff.store.registry_rules import validate_alias, validate_model_name, validate_registry_tag
from skiff.validation import validate_max_results
from skiff_server.request import INT, LIST_DICT, LIST_STR, STR, field, get_params
from skiff_server.response import empty, json_response, paged
from skiff_server.state import state

bp = Blueprint("registered_models", __name__)


def registry_store():
    return state().registry_store


def registry_tags(items: list[dict]) -> list[RunTag]:
    tags = []
    for i, item in enumerate(items):
        key = field(item, "key", STR, True, f"tags[{i}]")
        value = field(item, "value", STR, False, f"tags[{i}]")
        value = "" if value is None else value
        validate_registry_tag(key, value)
        tags.append(RunTag(key, value))
    return tags


def _model(rm) -> object:
    return json_response({"registered_model": rm.to_dict()})


@bp.route("/registered-models/create", methods=["POST"])
def create_registered_model():
    p = get_params({"name": STR, "tags": LIST_DICT, "description": STR,
                    "deployment_job_id": STR}, ["name"])
    validate_model_name(p["name"])
    tags = registry_tags(p.get("tags", []))
    return _model(registry_store().create_registered_model(
        p["name"], tags, p.get("description")))


@bp.route("/registered-models/rename", methods=["POST"])
def rename_registered_model():
    p = get_params({"name": STR, "new_name": STR}, ["name", "new_name"])
    validate_model_name(p["new_name"])
    return _model(registry_store().rename_registered_model(p["name"], p["new_name"]))


@bp.route("/registered-models/update", methods=["PATCH"])
def update_registered_model():
    p = get_params({"name": STR, "description": STR, "deployment_job_id": STR}, ["name"])
    store = registry_store()
    if "description" not in p:  # nothing to change: answer the model as it is
        return _model(store.get_registered_model(p["name"]))
    return _model(store.update_registered_model(p["name"], p["description"]))


@bp.route("/registered-models/delete", methods=["DELETE"])
def delete_registered_model():
    p = get_params({"name": STR}, ["name"])
    registry_store().delete_registered_model(p["name"])
    return empty()


@bp.route("/registered-models/get", methods=["GET"])
def get_registered_model():
    p = get_params({"name": STR}, ["name"])
    return _model(registry_store().get_registered_model(p["name"]))


PROMPT_TAG = "mlflow.prompt.is_prompt"
# The clause MLflow clients (2.21+) add to every model search to leave prompts out.
_PROMPT_CLAUSE = re.compile(
    r"(?:^|\s+and\s+)tags?\.(?:`mlflow\.prompt\.is_prompt`|\"mlflow\.prompt\.is_prompt\"|"
    r"mlflow\.prompt\.is_prompt)\s*(!=|=)\s*'(true|false)'(?:\s+and\s+)?", re.IGNORECASE)


def without_prompt_clause(filter_string: str | None) -> tuple[str | None, bool]:
    """``(filter, exclude_prompts)``. Prompts (models tagged ``mlflow.prompt.is_prompt``
    = true) are left out unless the filter asks for them. A clause asking for models that
    are not prompts is taken out (models lack the tag, so a store would match none) and
    applied to the results instead; a clause asking for prompts is a plain tag filter."""
    if not filter_string or PROMPT_TAG not in filter_string:
        return filter_string, True
    matches = list(_PROMPT_CLAUSE.finditer(filter_string))
    if len(matches) != 1:
        return filter_string, False
    match = matches[0]
    comparator, value = match.group(1), match.group(2).lower()
    if (comparator == "=") == (value == "true"):  # = 'true' / != 'false': prompts only
        return filter_string, False
    joiner = " AND " if match.start() > 0 and match.end() < len(filter_string) else ""
    rest = (filter_string[:match.start()] + joiner + filter_string[match.end():]).strip()
    return rest or None, True


@bp.route("/registered-models/search", methods=["GET"])
def search_registered_models():
    p = get_params({"filter": STR, "max_results": INT, "order_by": LIST_STR,
                    "page_token": STR})
    max_results = validate_max_results(
        p.get("max_results", SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT),
        SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD)
    filter_string, exclude_prompts = without_prompt_clause(p.get("filter") or None)
    page = registry_store().search_registered_models(
        filter_string, max_results, p.get("order_by") or None, p.get("page_token") or None)
    if exclude_prompts:  # a page may come out short; its token still leads on
        kept = [m for m in page if str(m.tags.get(PROMPT_TAG, "")).lower() != "true"]
        if len(kept) != len(page):
            from skiff.entities import PagedList

            page = PagedList(kept, getattr(page, "token", None))
    return paged("registered_models", page)


@bp.route("/registered-models/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions():
    p = get_params({"name": STR, "stages": LIST_STR}, ["name"])
    stages = [canonical_stage(s) for s in p.get("stages") or []] or None
    versions = registry_store().get_latest_versions(p["name"], stages)
    return json_response({"model_versions": [v.to_dict() for v in versions]} if versions
                         else {})


@bp.route("/registered-models/set-tag", methods=["POST"])
def set_registered_model_tag():
    p = get_params({"name": STR, "key": STR, "value": STR}, ["name", "key"],
                   present=["value"])
    validate_registry_tag(p["key"], p["value"])
    registry_store().set_registered_model_tag(p["name"], RunTag(p["key"], p["value"]))
    return empty()


@bp.route("/registered-models/delete-tag", methods=["DELETE"])
def delete_registered_model_tag():
    p = get_params({"name": STR, "key": STR}, ["name", "key"])
    registry_store().delete_registered_model_tag(p["name"], p["key"])
    return empty()


ALIAS = {"name": STR, "alias": STR, "version": STR}


@bp.route("/registered-models/alias", methods=["POST"])
def set_registered_model_alias():
    p = get_params(ALIAS, ["name", "alias", "version"])
    validate_alias(p["alias"])
    registry_store().set_registered_model_alias(p["name"], p["alias"], p["version"])
    return empty()


@bp.route("/registered-models/alias", methods=["DELETE"])
def delete_registered_model_alias():
    p = get_params(ALIAS, ["name", "alias"])
    registry_store().delete_registered_model_alias(p["name"], p["alias"])
    return empty()


@bp.route("/registered-models/alias", methods=["GET"])
def get_model_version_by_alias():
    p = get_params(ALIAS, ["name", "alias"])
    mv = registry_store().get_model_version_by_alias(p["name"], p["alias"])
    return json_response({"model_version": mv.to_dict()})
