"""Which tracking and registry URIs are in effect, and the store objects for them."""

from __future__ import annotations

import os
import threading

from skiff.env import get_env
from skiff.plugins import get_plugin_manager, get_registries
from skiff.registry import uri_scheme

DEFAULT_TRACKING_URI = "./mlruns"

_tracking_uri: str | None = None
_registry_uri: str | None = None
_store_cache: dict[tuple, object] = {}
_lock = threading.Lock()


def set_tracking_uri(uri) -> None:
    """Set the tracking URI for this process (also exported for child processes)."""
    global _tracking_uri
    uri = os.fspath(uri) if uri is not None else None
    _tracking_uri = uri
    if uri is not None:
        os.environ["SKIFF_TRACKING_URI"] = _absolute(uri)
        os.environ["MLFLOW_TRACKING_URI"] = _absolute(uri)


def _absolute(uri: str) -> str:
    return os.path.abspath(uri) if uri_scheme(uri) == "" else uri


def get_tracking_uri() -> str:
    """set_tracking_uri, else SKIFF_/MLFLOW_TRACKING_URI, else a plugin's default,
    else ``./mlruns``."""
    if _tracking_uri is not None:
        return _tracking_uri
    env = get_env("TRACKING_URI")
    if env:
        return env
    default = get_plugin_manager().hook.default_tracking_uri()
    return default or DEFAULT_TRACKING_URI


def is_tracking_uri_set() -> bool:
    return _tracking_uri is not None or bool(get_env("TRACKING_URI"))


def set_registry_uri(uri) -> None:
    global _registry_uri
    _registry_uri = os.fspath(uri) if uri is not None else None
    if uri is not None:
        os.environ["SKIFF_REGISTRY_URI"] = str(uri)
        os.environ["MLFLOW_REGISTRY_URI"] = str(uri)


def get_registry_uri() -> str:
    """set_registry_uri, else SKIFF_/MLFLOW_REGISTRY_URI, else the tracking URI."""
    return _registry_uri or get_env("REGISTRY_URI") or get_tracking_uri()


def get_tracking_store(tracking_uri: str | None = None, artifact_uri: str | None = None):
    """The store for a tracking URI, built once per (URI, artifact root) and reused."""
    uri = tracking_uri or get_tracking_uri()
    key = ("tracking", _absolute(uri), artifact_uri)
    store = _store_cache.get(key)
    if store is None:
        with _lock:
            store = _store_cache.get(key)
            if store is None:
                factory = get_registries().tracking_stores.get(uri_scheme(uri), uri=uri)
                store = factory(uri, artifact_uri)
                _store_cache[key] = store
    return store


def get_registry_store(registry_uri: str | None = None, tracking_uri: str | None = None):
    # Like MLflow: with no registry URI set anywhere, the registry follows the given
    # tracking URI (a Client("sqlite:///x.db") registers models in x.db).
    uri = registry_uri or _registry_uri or get_env("REGISTRY_URI") or tracking_uri \
        or get_tracking_uri()
    key = ("registry", _absolute(uri))
    store = _store_cache.get(key)
    if store is None:
        with _lock:
            store = _store_cache.get(key)
            if store is None:
                factory = get_registries().registry_stores.get(uri_scheme(uri), uri=uri)
                store = factory(uri, tracking_uri or get_tracking_uri())
                _store_cache[key] = store
    return store


def clear_store_cache() -> None:
    with _lock:
        _store_cache.clear()
