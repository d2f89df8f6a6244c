"""The app factory: config -> Flask app with every route mounted (no module globals)."""

from __future__ import annotations

from flask import Blueprint, Flask

from skiff_server.config import ServerConfig
from skiff_server.errors import install_error_handlers
from skiff_server.state import ServerState

API_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACTS_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")


def _tracking_blueprints() -> list[Blueprint]:
    from skiff_server.routes import (
        artifacts,
        experiments,
        logged_models,
        metrics,
        registry,
        registry_versions,
        runs,
    )

    return [experiments.bp, runs.bp, metrics.bp, artifacts.bp, logged_models.bp, registry.bp,
            registry_versions.bp]


def create_app(config=None) -> Flask:
    config = ServerConfig.coerce(config)
    config.validate()
    app = Flask("skiff_server", static_folder=None)
    app.url_map.strict_slashes = False
    # "//etc" must reach path validation, not be redirected to "/etc".
    app.url_map.merge_slashes = False
    app.extensions["skiff"] = ServerState(config)
    install_error_handlers(app)
    from skiff_server.security import install_security

    install_security(app, config)

    prefix = config.static_prefix or ""
    if config.expose_prometheus:
        from skiff_server.prometheus import install_prometheus

        install_prometheus(app, prefix)
    from skiff_server.routes import misc, proxy, registry_versions

    tracking_names = set()
    for bp in _tracking_blueprints():
        tracking_names |= mount_api(app, bp, prefix)
    app.register_blueprint(registry_versions.artifact_bp, url_prefix=prefix or None)
    tracking_names.add(registry_versions.artifact_bp.name)
    proxy_names = set()
    for i, base in enumerate(ARTIFACTS_PREFIXES):
        app.register_blueprint(proxy.bp, url_prefix=prefix + base, name=f"proxy{i}")
        proxy_names.add(f"proxy{i}")
    _install_mode_gate(app, config, tracking_names | {"misc_ajax"}, proxy_names)
    app.register_blueprint(misc.api_bp, url_prefix=prefix, name="misc_api")
    app.register_blueprint(misc.ajax_bp, url_prefix=prefix, name="misc_ajax")

    hooks = _global_hooks(app)
    has_root = _mount_plugin_blueprints(app, prefix)
    app.register_blueprint(misc.health_bp, url_prefix=prefix or None)
    if not has_root:
        app.register_blueprint(misc.placeholder_bp, url_prefix=prefix or None)
    # The log-metric fast path skips Flask's hooks, so only when they are all ours: a
    # plugin that hooks every request (authentication, say) must see log-metric too.
    if not config.artifacts_only and not config.expose_prometheus \
            and _global_hooks(app) == hooks:
        from skiff_server.fast_path import FastLogMetric

        app.wsgi_app = FastLogMetric(app.wsgi_app, app, config, API_PREFIXES)
    return app


def _global_hooks(app: Flask) -> tuple:
    return (tuple(app.before_request_funcs.get(None, ())),
            tuple(app.after_request_funcs.get(None, ())),
            tuple(app.teardown_request_funcs.get(None, ())),
            tuple(app.url_value_preprocessors.get(None, ())))


def mount_api(app: Flask, bp: Blueprint, prefix: str = "") -> set[str]:
    """Mount a blueprint under both ``/api/2.0/mlflow`` and ``/ajax-api/2.0/mlflow``;
    returns the names it was registered under."""
    names = set()
    for i, base in enumerate(API_PREFIXES):
        app.register_blueprint(bp, url_prefix=prefix + base, name=f"{bp.name}{i}")
        names.add(f"{bp.name}{i}")
    return names


def _install_mode_gate(app: Flask, config: ServerConfig, tracking: set, proxy: set) -> None:
    """--artifacts-only turns the tracking routes off, --no-serve-artifacts the proxy; both
    answer 503 in plain text, as MLflow does, saying which option is in the way."""
    if not config.artifacts_only and config.serve_artifacts:
        return
    from flask import Response, request

    @app.before_request
    def _gate():
        name = request.blueprint
        if config.artifacts_only and name in tracking:
            why = ("the server runs with --artifacts-only; only the artifact proxy, /health "
                   "and /version answer")
        elif not config.serve_artifacts and name in proxy:
            why = ("artifact serving is off (--no-serve-artifacts); start the server with "
                   "--serve-artifacts to use the artifact proxy")
        else:
            return None
        return Response(f"Endpoint: {request.path} disabled because {why}.", status=503,
                        mimetype="text/plain")


def _mount_plugin_blueprints(app: Flask, prefix: str) -> bool:
    """Let plugins (the UI, the model registry...) add blueprints; True when one serves /."""
    from skiff.plugins import get_plugin_manager
    from skiff_server import hookspecs

    manager = get_plugin_manager()
    if not hasattr(manager.hook, "register_blueprints"):
        manager.pm.add_hookspecs(hookspecs)
    before = {rule.rule for rule in app.url_map.iter_rules()}

    def register(blueprint: Blueprint, url_prefix: str | None = None, api: bool = False):
        if api:
            mount_api(app, blueprint, prefix)
        else:
            app.register_blueprint(blueprint, url_prefix=(prefix + (url_prefix or "")) or None)

    manager.hook.register_blueprints(register=register)
    root = (prefix or "") + "/"
    return any(rule.rule == root for rule in app.url_map.iter_rules()
               if rule.rule not in before)
