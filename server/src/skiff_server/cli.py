"""``skiff server`` and ``skiff ui``: MLflow's options, served by gunicorn (in process, so
start-up costs one interpreter), or by Flask's development server with ``--dev``."""

from __future__ import annotations

import os
import sys

import click

from skiff_server.config import (
    CONFIG_ENV_VAR,
    DEFAULT_ARTIFACTS_DESTINATION,
    DEFAULT_BACKEND_STORE_URI,
    ServerConfig,
)

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8


def _env(name: str) -> list[str]:
    return [f"SKIFF_{name}", f"MLFLOW_{name}"]


def _options(func):
    options = [
        click.option("--backend-store-uri", envvar=_env("BACKEND_STORE_URI"),
                     default=DEFAULT_BACKEND_STORE_URI, show_default=True,
                     help="Where runs and experiments are kept: a path or file: URI (file "
                          "store), or a database URI such as sqlite:///skiff.db."),
        click.option("--registry-store-uri", envvar=_env("REGISTRY_STORE_URI"), default=None,
                     help="Where the model registry is kept (default: the backend store)."),
        click.option("--default-artifact-root", envvar=_env("DEFAULT_ARTIFACT_ROOT"),
                     default=None,
                     help="Artifact root of new experiments (default: mlflow-artifacts:/ "
                          "when artifacts are served, else the backend store's directory)."),
        click.option("--serve-artifacts/--no-serve-artifacts", envvar=_env("SERVE_ARTIFACTS"),
                     default=True, show_default=True,
                     help="Serve the artifact proxy under /api/2.0/mlflow-artifacts."),
        click.option("--artifacts-destination", envvar=_env("ARTIFACTS_DESTINATION"),
                     default=DEFAULT_ARTIFACTS_DESTINATION, show_default=True,
                     help="Where the artifact proxy stores bytes (path, s3://, gs://...)."),
        click.option("--artifacts-only", envvar=_env("ARTIFACTS_ONLY"), is_flag=True,
                     default=False, help="Serve only the artifact proxy, /health and /version."),
        click.option("-h", "--host", envvar=_env("HOST"), default="127.0.0.1",
                     show_default=True, help="Address to listen on (0.0.0.0 for all)."),
        click.option("-p", "--port", envvar=_env("PORT"), default=5000, type=int,
                     show_default=True, help="Port to listen on."),
        click.option("-w", "--workers", envvar=_env("WORKERS"), default=None, type=int,
                     help=f"gunicorn worker processes (default {DEFAULT_WORKERS}, each with "
                          f"{DEFAULT_THREADS} threads)."),
        click.option("--static-prefix", envvar=_env("STATIC_PREFIX"), default=None,
                     help="A path prefix for every route, e.g. /skiff."),
        click.option("--allowed-hosts", envvar=_env("SERVER_ALLOWED_HOSTS"), default=None,
                     help="Comma-separated Host header values to accept (wildcards allowed; "
                          "'*' for any). Default: localhost and private addresses."),
        click.option("--cors-allowed-origins", envvar=_env("SERVER_CORS_ALLOWED_ORIGINS"),
                     default=None,
                     help="Comma-separated origins allowed to call the API from a browser. "
                          "Default: http(s)://localhost:*."),
        click.option("--disable-security-middleware",
                     envvar=_env("SERVER_DISABLE_SECURITY_MIDDLEWARE"), is_flag=True,
                     default=False, help="Turn off the Host, CORS and header checks."),
        click.option("--x-frame-options", envvar=_env("SERVER_X_FRAME_OPTIONS"),
                     default="SAMEORIGIN", show_default=True,
                     help="X-Frame-Options header value (NONE to leave it out)."),
        click.option("--gunicorn-opts", envvar=_env("GUNICORN_OPTS"), default=None,
                     help="Extra gunicorn command-line options, e.g. '--timeout 120'."),
        click.option("--expose-prometheus", envvar=_env("EXPOSE_PROMETHEUS"), default=None,
                     help="Serve request counters at /metrics (the directory is kept for "
                          "MLflow compatibility)."),
        click.option("--dev", is_flag=True, default=False,
                     help="Flask's development server with reloading (not for production)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _config(kw: dict) -> ServerConfig:
    from skiff.errors import SkiffException

    config = ServerConfig(
        backend_store_uri=kw["backend_store_uri"],
        registry_store_uri=kw["registry_store_uri"],
        default_artifact_root=kw["default_artifact_root"],
        serve_artifacts=kw["serve_artifacts"],
        artifacts_destination=kw["artifacts_destination"],
        artifacts_only=kw["artifacts_only"],
        static_prefix=kw["static_prefix"] or "",
        host=kw["host"],
        port=kw["port"],
        allowed_hosts=kw["allowed_hosts"],
        cors_allowed_origins=kw["cors_allowed_origins"],
        disable_security_middleware=kw["disable_security_middleware"],
        x_frame_options=kw["x_frame_options"],
        expose_prometheus=kw["expose_prometheus"],
    )
    try:
        config.validate()
    except SkiffException as exc:
        raise click.UsageError(exc.message) from None
    _check_plugins_installed(config)
    return config


def _check_plugins_installed(config: ServerConfig) -> None:
    """A tracking store or artifact URI whose scheme no installed plugin serves is refused
    at start, in one line naming the distribution to install, rather than on every
    request. (A database that is down is not: the server answers 503 until it is back.
    Nor is the registry's: a server may run without one, its pages and routes say so.)"""
    from skiff.plugins import get_registries
    from skiff.registry import uri_scheme

    registries = get_registries()
    wanted = [(registries.artifact_repositories, config.artifacts_destination)]
    if not config.artifacts_only:
        wanted.append((registries.tracking_stores, config.backend_store_uri))
    for registry, uri in wanted:
        scheme = uri_scheme(uri or "")
        if scheme and scheme not in registry:
            raise click.ClickException(registry.missing_message(scheme, uri))


def _serve(kw: dict) -> None:
    config = _config(kw)
    if kw["dev"] and (kw["gunicorn_opts"] or kw["workers"]):
        raise click.UsageError("--dev runs one development server; drop --workers and "
                               "--gunicorn-opts")
    host = config.host
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{config.port}{config.static_prefix}"
    os.environ[CONFIG_ENV_VAR] = config.to_json()
    click.echo(f"Skiff tracking server: {url}  (backend store {config.backend_store_uri})",
               err=True)
    if kw["dev"] or sys.platform == "win32":
        from skiff_server.app import create_app

        create_app(config).run(host=host, port=config.port, debug=bool(kw["dev"]),
                               threaded=True, use_reloader=bool(kw["dev"]))
        return
    from skiff_server.gunicorn_app import run_gunicorn

    run_gunicorn(config, kw["workers"] or DEFAULT_WORKERS, DEFAULT_THREADS, kw["gunicorn_opts"])


@click.command("server")
@_options
def server(**kw):
    """Run the tracking server: MLflow's REST API and the artifact proxy."""
    _serve(kw)


@click.command("ui")
@_options
def ui(**kw):
    """Run the tracking server with the local defaults (./mlruns) and open its UI."""
    _serve(kw)
