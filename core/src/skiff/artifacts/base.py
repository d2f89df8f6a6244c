"""The artifact repository contract.

A plugin registers ``factory(artifact_uri, tracking_uri=None, registry_uri=None)`` for
its URI schemes through ``register_artifact_repositories``; the factory returns an
:class:`ArtifactRepository`. Paths given to a repository are relative to its root URI and
are confined to it (:func:`skiff.validation.validate_relative_path`).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator

from skiff.entities import FileInfo
from skiff.errors import SkiffException
from skiff.validation import validate_relative_path

STREAM_CHUNK_SIZE = 1024 * 1024


def local_target(dst_path: str, artifact_path: str) -> str:
    """Where ``artifact_path`` lands below the download directory ``dst_path``. Listed paths
    come from a server's answer or a bucket's keys ('a/../../x' and '/x' are legal S3 keys):
    one that would land outside ``dst_path`` is refused, never written."""
    root = os.path.abspath(dst_path)
    local = os.path.abspath(os.path.join(root, artifact_path))
    if local != root and not local.startswith(root.rstrip(os.sep) + os.sep):
        raise SkiffException.invalid_parameter_value(
            f"Refusing to download the artifact {artifact_path!r}: it would be written "
            f"outside the destination directory {root}")
    return local


class ArtifactRepository(ABC):
    def __init__(self, artifact_uri: str, tracking_uri: str | None = None,
                 registry_uri: str | None = None):
        self.artifact_uri = artifact_uri
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri

    # -- what each backend implements ----------------------------------------------------
    @abstractmethod
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Upload one local file into ``artifact_path`` (a directory) under the root."""

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Direct children of ``path``; FileInfo paths are relative to the root."""

    @abstractmethod
    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        """Download one file to ``local_path`` (its directory exists)."""

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        raise SkiffException(
            f"{type(self).__name__} does not support deleting artifacts", "NOT_IMPLEMENTED"
        )

    # -- streaming, used by the server's artifact proxy ---------------------------------
    def open_read(self, artifact_path: str) -> Iterator[bytes]:
        """Yield the file's bytes in chunks. Backends override this to stream directly;
        the default downloads to a temporary file first."""
        tmp = tempfile.mkdtemp()
        local = self.download_artifacts(artifact_path, dst_path=tmp)

        def chunks():
            try:
                with open(local, "rb") as f:
                    while chunk := f.read(STREAM_CHUNK_SIZE):
                        yield chunk
            finally:
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)

        return chunks()

    def write_stream(self, artifact_path: str, chunks, size: int | None = None) -> None:
        """Store the bytes of ``chunks`` at ``artifact_path`` (a file path). Nothing is
        visible under the final name unless every chunk arrived. ``size``, when the caller
        knows it (a request's Content-Length), is a hint for sizing parts. The default
        spools to a temporary file and uploads it."""
        artifact_path = validate_relative_path(artifact_path)
        directory, name = posixpath.split(artifact_path)
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, name)
            with open(local, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
            self.log_artifact(local, directory or None)

    def file_size(self, artifact_path: str) -> int | None:
        """Size in bytes of one file, or None when the backend cannot tell cheaply."""
        parent = posixpath.dirname(artifact_path)
        for info in self.list_artifacts(parent or None):
            if info.path == artifact_path and not info.is_dir:
                return info.file_size
        return None

    # -- built on the primitives ----------------------------------------------------------
    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload a directory tree, keeping its layout."""
        artifact_path = validate_relative_path(artifact_path)
        for root, _dirs, files in os.walk(local_dir):
            rel = os.path.relpath(root, local_dir)
            dest = artifact_path if rel == "." else posixpath.join(
                artifact_path, rel.replace(os.sep, "/")) if artifact_path else (
                "" if rel == "." else rel.replace(os.sep, "/"))
            for name in files:
                self.log_artifact(os.path.join(root, name), dest or None)

    def _is_directory(self, artifact_path: str) -> bool:
        return bool(self.list_artifacts(artifact_path)) if artifact_path else True

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Download a file or directory; returns the local path."""
        artifact_path = validate_relative_path(artifact_path)
        if dst_path is None:
            dst_path = tempfile.mkdtemp()
        dst_path = os.path.abspath(dst_path)
        if not os.path.isdir(dst_path):
            raise SkiffException.invalid_parameter_value(
                f"The destination path for downloaded artifacts does not exist or is not a "
                f"directory: {dst_path}"
            )
        if self._is_directory(artifact_path):
            return self._download_directory(artifact_path, dst_path)
        local = local_target(dst_path, artifact_path)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        self._download_file(artifact_path, local)
        return local

    def _download_directory(self, artifact_path: str, dst_path: str) -> str:
        local_dir = local_target(dst_path, artifact_path) if artifact_path else dst_path
        os.makedirs(local_dir, exist_ok=True)
        for info in self.list_artifacts(artifact_path or None):
            if info.is_dir:
                self._download_directory(info.path, dst_path)
            else:
                local = local_target(dst_path, info.path)
                os.makedirs(os.path.dirname(local), exist_ok=True)
                self._download_file(info.path, local)
        return local_dir
