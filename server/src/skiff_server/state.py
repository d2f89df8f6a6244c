"""What one app holds: its config and the stores and repositories it resolved through the
plugin registries (built on first use, so starting the server does no work)."""

from __future__ import annotations

import threading

from flask import current_app

from skiff_server.config import ServerConfig


class ServerState:
    def __init__(self, config: ServerConfig):
        self.config = config
        self._lock = threading.Lock()
        self._tracking_store = None
        self._registry_store = None
        self._destination = None

    @property
    def tracking_store(self):
        if self._tracking_store is None:
            from skiff.tracking._stores import get_tracking_store

            with self._lock:
                if self._tracking_store is None:
                    self._tracking_store = get_tracking_store(
                        self.config.backend_store_uri, self.config.artifact_root)
        return self._tracking_store

    @property
    def registry_store(self):
        if self._registry_store is None:
            from skiff.tracking._stores import get_registry_store

            with self._lock:
                if self._registry_store is None:
                    self._registry_store = get_registry_store(
                        self.config.registry_store_uri or self.config.backend_store_uri,
                        self.config.backend_store_uri)
        return self._registry_store

    @property
    def destination(self):
        """The artifact repository behind the proxy (``--artifacts-destination``)."""
        if self._destination is None:
            from skiff.artifacts.resolve import get_artifact_repository

            with self._lock:
                if self._destination is None:
                    self._destination = get_artifact_repository(
                        self.config.artifacts_destination)
        return self._destination


def state() -> ServerState:
    return current_app.extensions["skiff"]


def tracking_store():
    return current_app.extensions["skiff"].tracking_store
