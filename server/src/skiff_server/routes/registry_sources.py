"""Where a model version's files may come from, and where they are.

A new version's source must be a ``runs:/`` or ``models:/`` URI of this server, or lie
inside one of its artifact stores: the default artifact root, the artifacts destination,
the artifact location of the run (``run_id``) or logged model (``model_id``) named in the
request. Everything else — other local paths, ``file://`` elsewhere, ``..`` and its
percent-encoded forms, other hosts — is refused with INVALID_PARAMETER_VALUE
(:func:`skiff.store.registry_rules.validate_source`). Files are read back through the same
rules, so no request makes the server read a path it does not own.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

from skiff.errors import SkiffException
from skiff.store.registry_rules import validate_source
from skiff.utils.uri import append_to_uri_path
from skiff_server.state import state

MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def _invalid(source: str, why: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(
        f"Invalid model version source: '{source}'. {why}")


def server_roots() -> list[str]:
    """The artifact stores this server owns."""
    cfg = state().config
    roots = [cfg.artifacts_destination] if cfg.serve_artifacts else []
    if cfg.artifact_root:
        roots.append(cfg.artifact_root)
    return roots


def _run(run_id: str, source: str):
    try:
        return state().tracking_store.get_run(run_id)
    except SkiffException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise _invalid(source, f"Run '{run_id}' (the run_id of the request) does not "
                                   "exist.") from None
        raise


def _logged_model(model_id: str, source: str):
    try:
        return state().tracking_store.get_logged_model(model_id)
    except SkiffException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise _invalid(source, f"Logged model '{model_id}' does not exist.") from None
        raise


def _check_regex(source: str) -> None:
    from skiff.env import get_env

    pattern = get_env("CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX")
    if pattern and not re.search(pattern, source):
        raise _invalid(source, f"It does not match the server's allowed pattern {pattern!r}.")


def check_new_source(source: str, run_id: str | None, model_id: str | None):
    """Validate a model-version source and complete its lineage; returns
    ``(source, run_id, model_id)`` as the store should record them."""
    from skiff.artifacts.resolve import parse_runs_uri
    from skiff.models_uri import parse_models_uri

    _check_regex(source)
    scheme = urlparse(source).scheme.lower()
    if scheme in ("runs", "models"):
        validate_source(source)  # traversal, NUL and host-part checks
    if scheme == "runs":
        source_run_id, _path = parse_runs_uri(source)
        if run_id and run_id != source_run_id:
            raise _invalid(source, f"The run_id '{run_id}' of the request is not the run of "
                                   "the source.")
        _run(source_run_id, source)
        return source, source_run_id, model_id
    if scheme == "models":
        parts = parse_models_uri(source)
        if "model_id" in parts:  # MLflow 3.x: a logged model
            if model_id and model_id != parts["model_id"]:
                raise _invalid(source, f"The model_id '{model_id}' of the request is not the "
                                       "logged model of the source.")
            model = _logged_model(parts["model_id"], source)
            return source, run_id or model.source_run_id, parts["model_id"]
        return _registered_source(source, parts, run_id, model_id)
    roots = server_roots()
    if run_id:
        roots.append(_run(run_id, source).info.artifact_uri)
    if model_id:
        model = _logged_model(model_id, source)
        roots.append(model.artifact_location)
        run_id = run_id or model.source_run_id
    validate_source(source, roots)
    return source, run_id, model_id


def _registered_source(source: str, parts: dict, run_id, model_id):
    """Another registered version (``models:/<name>/<version|stage>``, ``@alias``): the
    lineage is the source version's; the source is pinned to its version number."""
    from skiff.models_uri import _version_for

    store = state().registry_store
    version = _version_for(store, parts, source)
    src = store.get_model_version(parts["name"], str(version))
    if (run_id and run_id != (src.run_id or "")) or (
            model_id and model_id != (src.model_id or "")):
        raise _invalid(source, "The run_id and model_id of the request must match the "
                               "referenced model version.")
    pinned = f"models:/{src.name}/{src.version}"
    if parts.get("path"):
        pinned = f"{pinned}/{parts['path']}"
    return pinned, run_id or src.run_id, model_id or src.model_id


def link_logged_model(model_id: str, name: str, version: str) -> None:
    """Record the new version on the logged model's ``mlflow.modelVersions`` tag (a JSON
    list of {name, version}), once."""
    from skiff.entities import RunTag

    store = state().tracking_store
    try:
        model = store.get_logged_model(model_id)
    except SkiffException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return
        raise
    # MLflow's server writes the version as a number here (its clients append strings)
    entry = {"name": name, "version": int(version)}
    try:
        current = json.loads(model.tags.get(MODEL_VERSIONS_TAG) or "[]")
    except ValueError:
        current = []
    if not isinstance(current, list):
        current = []
    if any(isinstance(e, dict) and e.get("name") == name and str(e.get("version")) == str(
            version) for e in current):
        return
    store.set_logged_model_tags(model_id, [RunTag(MODEL_VERSIONS_TAG,
                                                  json.dumps(current + [entry]))])


def resolve_location(uri: str, depth: int = 0) -> str:
    """A stored location as a concrete artifact URI: ``runs:/`` and ``models:/`` forms
    (which some stores keep as given) are resolved with this server's stores."""
    from skiff.artifacts.resolve import parse_runs_uri
    from skiff.models_uri import _version_for, parse_models_uri

    if depth > 10:
        raise SkiffException.invalid_parameter_value(
            f"Model version location {uri!r} refers to itself through models:/ URIs")
    scheme = urlparse(uri).scheme.lower()
    if scheme == "runs":
        run_id, path = parse_runs_uri(uri)
        base = state().tracking_store.get_run(run_id).info.artifact_uri
        return append_to_uri_path(base, path) if path else base
    if scheme == "models":
        parts = parse_models_uri(uri)
        if "model_id" in parts:
            base = state().tracking_store.get_logged_model(parts["model_id"]).artifact_location
        else:
            store = state().registry_store
            version = _version_for(store, parts, uri)
            base = resolve_location(
                store.get_model_version_download_uri(parts["name"], str(version)), depth + 1)
        return append_to_uri_path(base, parts["path"]) if parts.get("path") else base
    return uri


def readable_location(mv) -> str:
    """The concrete location of a version's files, refused unless it lies inside what this
    server owns (checked again on every read: stores may hold sources written by others)."""
    location = resolve_location(state().registry_store.get_model_version_download_uri(
        mv.name, mv.version))
    roots = server_roots()
    tracking = state().tracking_store
    if mv.run_id:
        try:
            roots.append(tracking.get_run(mv.run_id).info.artifact_uri)
        except SkiffException:
            pass
    if mv.model_id:
        try:
            roots.append(tracking.get_logged_model(mv.model_id).artifact_location)
        except SkiffException:
            pass
    validate_source(location, roots)
    return location
