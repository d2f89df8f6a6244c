"""What ``skiff migrate`` reads from and writes to.

A *source* is anything with these read methods (the migration never writes to it):

- ``uri``: the tracking URI (artifact URIs such as ``mlflow-artifacts:/`` resolve against it)
- ``resolve_artifact_uri(uri)``: where to read an artifact URI found in the source from
- ``experiments()``: every experiment, deleted ones too
- ``count_runs()``: how many runs ``runs()`` will yield over all experiments
- ``runs(experiment_id)``: every run of one experiment, deleted ones too, with data and inputs
- ``metric_history(run_id, key)``: every point of one metric
- ``logged_model(model_id)``: a logged model (MLflow 3.x) or None
- ``has_registry``, ``registered_models()`` (with tags, aliases and description) and
  ``model_versions(name)`` (the live versions, by ascending number)

:class:`StoreSource` reads any Skiff store through the store API (``./mlruns``, SQL, a live
MLflow or Skiff server over REST); :mod:`skiff_stores_sql.mlflow_sql_source` reads an MLflow
SQL database directly. A target is a tracking store plus, when the URI has one, a registry
store.
"""

from __future__ import annotations

import os

from skiff.entities import ViewType
from skiff.errors import SkiffException

_PAGE = 1000
_VERSION_PAGE = 10000
SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


def all_pages(fetch):
    """Every item of a paged API call ``fetch(page_token) -> PagedList``."""
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


def quoted(value: str) -> str:
    """A filter-string literal for ``value`` (the grammar has no escapes: pick the quote)."""
    return f'"{value}"' if "'" in value else f"'{value}'"


def resolve_proxied(uri: str, destination: str | None) -> str:
    """``mlflow-artifacts:`` URIs name files below a tracking server's artifacts
    destination; with that destination given they are read from it directly."""
    if not destination or not uri or not uri.startswith("mlflow-artifacts:"):
        return uri
    from urllib.parse import urlsplit

    from skiff.utils.uri import append_to_uri_path

    return append_to_uri_path(destination, urlsplit(uri).path)


class StoreSource:
    """A tracking store (and its registry store, when there is one) read through the API."""

    def __init__(self, tracking, registry=None, uri: str | None = None,
                 artifacts_destination: str | None = None):
        self.tracking, self.registry = tracking, registry
        self.uri = uri or getattr(tracking, "store_uri", None)
        self.artifacts_destination = artifacts_destination

    def resolve_artifact_uri(self, uri: str) -> str:
        return resolve_proxied(uri, self.artifacts_destination)

    @property
    def has_registry(self) -> bool:
        return self.registry is not None

    def experiments(self):
        return list(all_pages(lambda token: self.tracking.search_experiments(
            view_type=ViewType.ALL, max_results=_PAGE, page_token=token)))

    def count_runs(self) -> int:
        return sum(1 for exp in self.experiments() for _ in self.runs(exp.experiment_id))

    def runs(self, experiment_id):
        return all_pages(lambda token: self.tracking.search_runs(
            [experiment_id], "", ViewType.ALL, _PAGE, None, token))

    def metric_history(self, run_id, key):
        return all_pages(lambda token: self.tracking.get_metric_history(
            run_id, key, max_results=25000, page_token=token))

    def logged_model(self, model_id):
        try:
            return self.tracking.get_logged_model(model_id)
        except SkiffException:
            return None

    def registered_models(self):
        for model in all_pages(lambda token: self.registry.search_registered_models(
                max_results=1000, page_token=token)):
            # The full entity: searches need not carry aliases.
            yield self.registry.get_registered_model(model.name)

    def model_versions(self, name):
        found = all_pages(lambda token: self.registry.search_model_versions(
            f"name = {quoted(name)}", max_results=_VERSION_PAGE, page_token=token))
        return sorted(found, key=lambda mv: int(mv.version))

    def close(self) -> None:
        pass


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""


def _sqlite_file(uri: str) -> str | None:
    from skiff_stores_sql.engine import is_memory_sqlite, normalize_url

    url = normalize_url(uri)
    return None if is_memory_sqlite(url) else os.path.abspath(url.database)


def _registry_store(uri: str):
    """The registry at ``uri``, or None where the URI has no registry (a plugin that only
    stores tracking data)."""
    from skiff.errors import UnsupportedURIError
    from skiff.tracking._stores import get_registry_store

    try:
        return get_registry_store(uri, tracking_uri=uri)
    except UnsupportedURIError:
        return None


def open_source(uri: str, artifacts_destination: str | None = None):
    """The source for a URI: an MLflow SQL database is read directly, anything else through
    the store plugins. Never creates anything: a missing SQLite file or file store is an
    error. ``artifacts_destination`` resolves the source's ``mlflow-artifacts:`` URIs."""
    from skiff.tracking._stores import get_tracking_store

    if _scheme(uri) in SQL_SCHEMES:
        from skiff_stores_sql.mlflow_sql_source import MlflowSqlSource, is_mlflow_database

        path = _sqlite_file(uri) if _scheme(uri) == "sqlite" else None
        if _scheme(uri) == "sqlite" and (path is None or not os.path.isfile(path)):
            raise SkiffException.invalid_parameter_value(
                f"No SQLite database at {uri} to migrate from")
        if is_mlflow_database(uri):
            return MlflowSqlSource(uri, artifacts_destination)
    elif _scheme(uri) in ("", "file"):
        from skiff.utils.uri import resolve_store_path

        try:
            path = resolve_store_path(uri)
        except ValueError as exc:
            raise SkiffException.invalid_parameter_value(str(exc)) from None
        if not os.path.isdir(path):
            raise SkiffException.invalid_parameter_value(
                f"No file store at {uri} to migrate from")
    return StoreSource(_reachable(get_tracking_store(uri), uri), _registry_store(uri), uri,
                       artifacts_destination)


def _reachable(store, uri: str):
    """The store, once a first read worked (a server that is down fails here, in one line)."""
    if _scheme(uri) in ("http", "https"):
        _probe_server(uri)
    store.search_experiments(max_results=1)
    return store


def _probe_server(uri: str) -> None:
    """One plain try at a tracking server, so that one that is down or unknown is reported
    at once: the REST client retries 7 times with backoff, as MLflow's does (minutes).
    Any HTTP answer counts as reachable; TLS and other errors are left to the client."""
    import socket
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=10).close()
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (ConnectionError, TimeoutError, socket.gaierror)):
            raise SkiffException(f"Cannot reach the tracking server at {uri}: {reason}",
                                 "TEMPORARILY_UNAVAILABLE") from None


def open_target(uri: str):
    """(tracking store, registry store or None) for the target URI."""
    from skiff.tracking._stores import get_tracking_store

    return _reachable(get_tracking_store(uri), uri), _registry_store(uri)
