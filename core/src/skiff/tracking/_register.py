"""``skiff.register_model``: a model URI becomes a new version of a registered model."""

from __future__ import annotations

from skiff.errors import SkiffException


def register_model(model_uri, name, await_registration_for=300, *, tags=None):
    """Create ``name`` if needed and add a version whose source is ``model_uri``
    (``runs:/``, ``models:/m-<id>``, ``models:/<name>/<version>`` or an artifact URI)."""
    from skiff.artifacts.resolve import parse_runs_uri, resolve_artifact_uri
    from skiff.models_uri import logged_model_for_run, parse_models_uri
    from skiff.tracking.client import Client

    client = Client()
    try:
        client.create_registered_model(name)
    except SkiffException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    run_id = model_id = None
    source = model_uri
    if model_uri.startswith("runs:/"):
        run_id, _path = parse_runs_uri(model_uri)
        logged = logged_model_for_run(model_uri)
        if logged is not None:  # MLflow 3.x: runs:/<run>/<name> names a logged model
            model_id, source = logged.model_id, f"models:/{logged.model_id}"
        else:
            source = resolve_artifact_uri(model_uri)
    elif model_uri.startswith("models:/"):
        parts = parse_models_uri(model_uri)
        if "model_id" in parts:
            model_id = parts["model_id"]
            run_id = client.get_logged_model(model_id).source_run_id
        else:
            source = resolve_artifact_uri(model_uri)
    return client.create_model_version(name, source, run_id, tags=tags, model_id=model_id)


def _all_pages(search, max_results, filter_string, order_by, page_size):
    out, token = [], None
    while True:
        size = page_size if max_results is None else min(page_size, max_results - len(out))
        page = search(filter_string, size, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out


def search_registered_models(max_results=None, filter_string=None, order_by=None):
    """Every matching registered model (pages followed), or the first ``max_results``."""
    from skiff.tracking.client import Client

    return _all_pages(Client().search_registered_models, max_results, filter_string, order_by,
                      1000)


def search_model_versions(max_results=None, filter_string=None, order_by=None):
    from skiff.tracking.client import Client

    return _all_pages(Client().search_model_versions, max_results, filter_string, order_by,
                      10000)


def set_model_version_tag(name, version=None, key=None, value=None, stage=None):
    from skiff.tracking.client import Client

    Client().set_model_version_tag(name, version, key, value, stage)
