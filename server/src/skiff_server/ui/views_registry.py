"""Model registry pages: models list with search, a model's versions, stages, aliases and
tags, and a version page linking to its run and source. Without a registry store (no plugin
provides one for this backend) every page says so."""

from __future__ import annotations

from flask import request, url_for

from skiff.errors import SkiffException
from skiff_server.ui.blueprint import page, registry_store, tracking_store
from skiff_server.ui.views_experiments import _GRAMMAR

PAGE_SIZE = 100
VERSIONS_SHOWN = 200


def add_routes(bp) -> None:
    bp.add_url_rule("/models", "models", models)
    bp.add_url_rule("/models/<path:name>/versions/<version>", "model_version", model_version)
    bp.add_url_rule("/models/<path:name>", "model", model)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _unavailable(reason: str):
    return page("registry_unavailable.html", status=501, title="Model registry",
                reason=reason)


def models():
    store, reason = registry_store()
    if store is None:
        return _unavailable(reason)
    query = request.args.get("q", "").strip()
    token = request.args.get("page_token") or None
    back = request.args.getlist("back")
    filter_string = query if (not query or _GRAMMAR.search(query)) else (
        f"name ILIKE {_quote('%' + query + '%')}")
    items, next_token, error = [], None, None
    try:
        result = store.search_registered_models(filter_string=filter_string or None,
                                                max_results=PAGE_SIZE, page_token=token)
        items, next_token = list(result), result.token
    except SkiffException as exc:
        error = exc.message
    next_url = url_for("skiff_ui.models", q=query or None, page_token=next_token,
                       back=[*back, token or ""]) if next_token else None
    prev_url = url_for("skiff_ui.models", q=query or None, page_token=back[-1] or None,
                       back=back[:-1]) if back else None
    return page("models.html", title="Registered models", models=items, query=query,
                search_error=error, next_url=next_url, prev_url=prev_url,
                first=len(back) * PAGE_SIZE)


def model(name):
    store, reason = registry_store()
    if store is None:
        return _unavailable(reason)
    registered = store.get_registered_model(name)
    versions = store.search_model_versions(filter_string=f"name = {_quote(name)}",
                                           max_results=VERSIONS_SHOWN)
    versions = sorted(versions, key=lambda v: -int(v.version) if str(v.version).isdigit()
                      else 0)
    aliases_by_version = {}
    for alias, version in (registered.aliases or {}).items():
        aliases_by_version.setdefault(str(version), []).append(alias)
    return page("model.html", title=name, model=registered, versions=versions,
                aliases_by_version=aliases_by_version)


def model_version(name, version):
    store, reason = registry_store()
    if store is None:
        return _unavailable(reason)
    mv = store.get_model_version(name, version)
    run = None
    run_missing = None
    if mv.run_id:
        try:
            run = tracking_store().get_run(mv.run_id)
        except SkiffException as exc:
            run_missing = exc.message
    return page("model_version.html", title=f"{name} v{version}", mv=mv, run=run,
                run_missing=run_missing)
