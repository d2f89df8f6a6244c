"""Artifact repositories that talk to a tracking server's artifact proxy.

``HttpArtifactRepository`` takes ``http(s)://host/api/2.0/mlflow-artifacts/artifacts/<path>``;
``MlflowArtifactsRepository`` takes ``mlflow-artifacts:/<path>`` (the server is the tracking
URI) or ``mlflow-artifacts://host:port/<path>`` and turns it into the former. Both use the
tracking server's credentials and TLS settings (:mod:`skiff.store._http`) and stream bytes
both ways.
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import quote, urlsplit, urlunsplit

from skiff.artifacts.base import STREAM_CHUNK_SIZE, ArtifactRepository
from skiff.entities import FileInfo
from skiff.errors import SkiffException
from skiff.validation import validate_relative_path

PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts"


class HttpArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        parts = urlsplit(artifact_uri)
        path = parts.path
        index = path.find(PROXY_PATH)
        if index < 0:
            raise SkiffException.invalid_parameter_value(
                f"Not an artifact proxy URI: {artifact_uri!r} (expected "
                f"http(s)://<server>{PROXY_PATH}/<path>)")
        # The server's base (with any --static-prefix) and the root below the destination.
        self._server = urlunsplit((parts.scheme, parts.netloc, path[:index], "", ""))
        self._root = path[index + len(PROXY_PATH):].strip("/")
        self._http = None

    @property
    def http(self):
        if self._http is None:
            from skiff.store._http import HttpSettings

            self._http = HttpSettings(self._server)
        return self._http

    def _rel(self, path: str | None) -> str:
        rel = validate_relative_path(path)
        if not self._root:
            return rel
        return posixpath.join(self._root, rel) if rel else self._root

    def _file_url(self, path: str) -> str:
        return f"{self._server}{PROXY_PATH}/{quote(self._rel(path))}"

    def _request(self, method, url, **kw):
        from skiff.store._http import check_response, request

        response = request(self.http, method, url, **kw)
        check_response(response, urlsplit(url).path)
        return response

    # -- writing --------------------------------------------------------------------------
    def log_artifact(self, local_file, artifact_path=None):
        name = os.path.basename(local_file)
        dest = posixpath.join(validate_relative_path(artifact_path), name) if artifact_path \
            else name
        with open(local_file, "rb") as f:
            self._request("PUT", self._file_url(dest), data=f,
                          headers={"Content-Type": "application/octet-stream"})

    def write_stream(self, artifact_path, chunks, size=None):
        path = validate_relative_path(artifact_path)
        self._request("PUT", self._file_url(path), data=iter(chunks),
                      headers={"Content-Type": "application/octet-stream"})

    def delete_artifacts(self, artifact_path=None):
        path = validate_relative_path(artifact_path)
        if not path and not self._root:
            raise SkiffException.invalid_parameter_value(
                "Refusing to delete the whole artifact destination")
        self._request("DELETE", self._file_url(path) if path else
                      f"{self._server}{PROXY_PATH}/{quote(self._root)}")

    # -- reading --------------------------------------------------------------------------
    def list_artifacts(self, path=None):
        rel = validate_relative_path(path)
        response = self._request("GET", f"{self._server}{PROXY_PATH}",
                                 params={"path": self._rel(rel)})
        body = response.json() if response.content else {}
        infos = []
        for item in body.get("files", []):
            child = posixpath.join(rel, item["path"]) if rel else item["path"]
            size = item.get("file_size")
            infos.append(FileInfo(child, bool(item.get("is_dir")),
                                  int(size) if size is not None else None))
        return sorted(infos, key=lambda f: f.path)

    def _is_directory(self, artifact_path):
        if not artifact_path:
            return True
        parent = posixpath.dirname(artifact_path)
        for info in self.list_artifacts(parent or None):
            if info.path == artifact_path:
                return info.is_dir
        # Not listed: a file we may still be able to fetch, or nothing at all.
        return False

    def open_read(self, artifact_path):
        response = self._request("GET", self._file_url(artifact_path), stream=True)

        def chunks():
            with response:
                yield from response.iter_content(STREAM_CHUNK_SIZE)

        return chunks()

    def _download_file(self, remote_file_path, local_path):
        tmp = f"{local_path}.partial"
        try:
            with open(tmp, "wb") as f:
                for chunk in self.open_read(remote_file_path):
                    f.write(chunk)
            os.replace(tmp, local_path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def file_size(self, artifact_path):
        parent = posixpath.dirname(validate_relative_path(artifact_path))
        for info in self.list_artifacts(parent or None):
            if info.path == artifact_path and not info.is_dir:
                return info.file_size
        return None


class MlflowArtifactsRepository(HttpArtifactRepository):
    """``mlflow-artifacts:`` URIs, proxied through the tracking server."""

    def __init__(self, artifact_uri: str, tracking_uri=None, registry_uri=None):
        http_uri = resolve_proxy_uri(artifact_uri, tracking_uri)
        super().__init__(http_uri, tracking_uri, registry_uri)
        self.artifact_uri = artifact_uri


def resolve_proxy_uri(artifact_uri: str, tracking_uri: str | None = None) -> str:
    """``mlflow-artifacts:/p`` -> ``<tracking server>/api/2.0/mlflow-artifacts/artifacts/p``;
    ``mlflow-artifacts://host:port/p`` pins the server (http)."""
    parts = urlsplit(artifact_uri)
    if parts.scheme != "mlflow-artifacts":
        raise SkiffException.invalid_parameter_value(
            f"Not an mlflow-artifacts URI: {artifact_uri!r}")
    path = parts.path.lstrip("/")
    if parts.netloc:
        if ":" not in parts.netloc:
            raise SkiffException.invalid_parameter_value(
                f"The mlflow-artifacts URI {artifact_uri!r} names a host without a port; "
                "use mlflow-artifacts://<host>:<port>/<path> or mlflow-artifacts:/<path>")
        base = f"http://{parts.netloc}"
    else:
        if tracking_uri is None:
            from skiff.tracking._stores import get_tracking_uri

            tracking_uri = get_tracking_uri()
        if urlsplit(tracking_uri).scheme not in ("http", "https"):
            raise SkiffException.invalid_parameter_value(
                f"The artifact URI {artifact_uri!r} is served through a tracking server, but "
                f"the tracking URI is {tracking_uri!r}. Set SKIFF_TRACKING_URI (or "
                "MLFLOW_TRACKING_URI) to the server's http(s):// address.")
        base = tracking_uri.rstrip("/")
    return f"{base}{PROXY_PATH}/{path}" if path else f"{base}{PROXY_PATH}"
