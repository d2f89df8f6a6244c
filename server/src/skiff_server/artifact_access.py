"""From a run's (or logged model's) artifact URI to the repository holding its bytes.

A proxied URI (``mlflow-artifacts:/1/<run>/artifacts``, or this server's
``http(s)://.../api/2.0/mlflow-artifacts/artifacts/...``) lives under the server's
``--artifacts-destination``; any other URI resolves through the artifact plugins.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from skiff.validation import validate_relative_path

_PROXY_MARKER = "/api/2.0/mlflow-artifacts/artifacts"


class ScopedRepository:
    """A repository seen from a sub-path: every path is relative to ``prefix``."""

    def __init__(self, repo, prefix: str = ""):
        self.repo = repo
        self.prefix = prefix.strip("/")

    def _full(self, path: str | None) -> str:
        rel = validate_relative_path(path)
        if not self.prefix:
            return rel
        return posixpath.join(self.prefix, rel) if rel else self.prefix

    def _relative(self, full: str) -> str:
        if self.prefix and full.startswith(self.prefix + "/"):
            return full[len(self.prefix) + 1:]
        return full

    def list_artifacts(self, path: str | None = None):
        from skiff.entities import FileInfo

        return [FileInfo(self._relative(f.path), f.is_dir, f.file_size)
                for f in self.repo.list_artifacts(self._full(path) or None)]

    def open_read(self, path: str):
        return self.repo.open_read(self._full(path))

    def file_size(self, path: str):
        return self.repo.file_size(self._full(path))

    def write_stream(self, path: str, chunks) -> None:
        self.repo.write_stream(self._full(path), chunks)


def proxied_path(artifact_uri: str) -> str | None:
    """The path under the artifacts destination for a proxied URI, else None."""
    if artifact_uri.startswith("mlflow-artifacts:"):
        parts = urlsplit(artifact_uri)
        return parts.path.lstrip("/")
    if artifact_uri.startswith(("http://", "https://")):
        path = urlsplit(artifact_uri).path
        index = path.find(_PROXY_MARKER)
        if index >= 0:
            return path[index + len(_PROXY_MARKER):].lstrip("/")
    return None


def repository_for(artifact_uri: str) -> ScopedRepository:
    from skiff_server.state import state

    path = proxied_path(artifact_uri)
    if path is not None:
        return ScopedRepository(state().destination, validate_relative_path(path))
    from skiff.artifacts.resolve import get_artifact_repository

    return ScopedRepository(get_artifact_repository(artifact_uri))
