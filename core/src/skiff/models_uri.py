"""``models:/`` URIs: logged models (``models:/m-<id>``) and, through a registry store
plugin, registered model versions (``models:/<name>/<version>``, ``/<stage>``, ``@alias``).
"""

from __future__ import annotations

import re
import urllib.parse

from skiff.errors import SkiffException
from skiff.utils.uri import append_to_uri_path

_LOGGED_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


def parse_models_uri(uri: str) -> dict:
    """Split a ``models:/`` URI: {'model_id'} or {'name', 'version'|'stage'|'alias'},
    plus 'path' for a sub-path after a logged-model id."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "models" or parsed.netloc not in ("",):
        raise SkiffException.invalid_parameter_value(
            f"Not a valid models:/ URI: {uri!r} (a registry in the host part, such as "
            "models://profile@databricks/..., is not supported)")
    parts = [p for p in parsed.path.split("/") if p]
    if not parts:
        raise SkiffException.invalid_parameter_value(
            f"Not a valid models:/ URI: {uri!r}: expected models:/<model_id>, "
            "models:/<name>/<version>, models:/<name>/<stage> or models:/<name>@<alias>")
    first = parts[0]
    if "@" in first:
        name, _, alias = first.rpartition("@")
        if not name or not alias:
            raise SkiffException.invalid_parameter_value(f"Not a valid models:/ URI: {uri!r}")
        return {"name": name, "alias": alias, "path": "/".join(parts[1:])}
    if len(parts) == 1 or _LOGGED_MODEL_ID.match(first):
        return {"model_id": first, "path": "/".join(parts[1:])}
    name, second, path = first, parts[1], "/".join(parts[2:])
    if second.isdigit():
        return {"name": name, "version": second, "path": path}
    if second.lower() == "latest":
        return {"name": name, "stage": None, "path": path}
    return {"name": name, "stage": second, "path": path}


def resolve_models_uri(uri: str, tracking_uri: str | None = None,
                       registry_uri: str | None = None) -> str:
    """The artifact URI a ``models:/`` URI points at."""
    parts = parse_models_uri(uri)
    if "model_id" in parts:
        from skiff.tracking._stores import get_tracking_store

        model = get_tracking_store(tracking_uri).get_logged_model(parts["model_id"])
        return append_to_uri_path(model.artifact_location, parts["path"]) if parts["path"] \
            else model.artifact_location
    return _resolve_registry_uri(parts, uri, tracking_uri, registry_uri)


def _resolve_registry_uri(parts: dict, uri: str, tracking_uri, registry_uri) -> str:
    from skiff.tracking._stores import get_registry_store

    store = get_registry_store(registry_uri, tracking_uri)
    version = _version_for(store, parts, uri)
    location = store.get_model_version_download_uri(parts["name"], str(version))
    return append_to_uri_path(location, parts["path"]) if parts.get("path") else location


def get_model_version_from_uri(uri: str, registry_uri=None, tracking_uri=None):
    """The ModelVersion a ``models:/<name>/<version|stage|latest>`` or ``@alias`` URI names."""
    from skiff.tracking._stores import get_registry_store

    parts = parse_models_uri(uri)
    if "model_id" in parts:
        raise SkiffException.invalid_parameter_value(
            f"{uri!r} names a logged model, not a registered model version")
    store = get_registry_store(registry_uri, tracking_uri)
    return store.get_model_version(parts["name"], str(_version_for(store, parts, uri)))


def _version_for(store, parts: dict, uri: str) -> str:
    name = parts["name"]
    if "alias" in parts:
        version = store.get_model_version_by_alias(name, parts["alias"]).version
    elif "version" in parts:
        version = parts["version"]
    else:
        stages = [parts["stage"]] if parts["stage"] else None
        latest = store.get_latest_versions(name, stages)
        if not latest:
            where = f" in stage {parts['stage']!r}" if parts["stage"] else ""
            raise SkiffException(f"No versions of model {name!r}{where} were found (URI {uri})",
                                 "RESOURCE_DOES_NOT_EXIST")
        version = max(latest, key=lambda v: int(v.version)).version
    return version


def logged_model_for_run(runs_uri: str):
    """The logged model named like the path of ``runs:/<run_id>/<name>`` whose source run
    is that run (MLflow 3.x keeps models outside the run's artifacts), or None."""
    from skiff.artifacts.resolve import parse_runs_uri
    from skiff.tracking._stores import get_tracking_store

    run_id, name = parse_runs_uri(runs_uri)
    if not name or "/" in name:
        return None
    store = get_tracking_store()
    try:
        run = store.get_run(run_id)
        token, found = None, []
        while True:
            page = store.search_logged_models([run.info.experiment_id], page_token=token)
            found += [m for m in page if m.source_run_id == run_id and m.name == name]
            token = getattr(page, "token", None)
            if not token:
                break
    except SkiffException:
        return None
    ready = [m for m in found if m.status in ("LOGGED_MODEL_READY", 2)]
    candidates = ready or found
    return max(candidates, key=lambda m: m.creation_timestamp) if candidates else None
