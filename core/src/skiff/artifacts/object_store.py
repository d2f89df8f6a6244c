"""What the cloud artifact repositories (S3, GCS, Azure Blob) have in common: artifacts are
objects named ``<prefix>/<relative path>`` in a flat key space, directories are key prefixes.

:class:`ObjectStoreRepository` does the walking, fanning out and bookkeeping once (logging a
tree in parallel, downloading a tree in parallel, deleting a tree, streaming an upload in
parts, listing with sizes); each backend supplies the calls to its SDK through the hooks
marked below. Nothing here imports a cloud SDK.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import posixpath
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from skiff.artifacts.base import ArtifactRepository, local_target
from skiff.artifacts.transfer import (
    file_chunks,
    list_local_files,
    max_workers,
    multipart_threshold,
    part_size,
    progress_bar,
    run_parallel,
    split_parts,
    stream_part_size,
)
from skiff.entities import FileInfo
from skiff.errors import SkiffException
from skiff.validation import validate_relative_path


class StoredObject(NamedTuple):
    """One object as a listing or a metadata call saw it. ``native`` is the backend's own
    record (an ETag, a Blob, BlobProperties) that its download needs."""

    key: str
    size: int
    native: object = None


class ListedEntry(NamedTuple):
    """One row of a delimited listing: a full key (or a ``.../`` prefix when ``is_dir``)."""

    key: str
    is_dir: bool
    size: int | None = None


class ClientCache:
    """SDK clients built once per settings key (building one costs tens of milliseconds and
    a client owns its connection pool). ``clear()`` forgets them (tests change settings)."""

    def __init__(self):
        self._clients: dict = {}
        self._lock = threading.Lock()

    def get(self, key, build: Callable):
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = build(*key)
        return client

    def clear(self) -> None:
        self._clients.clear()


def destination_dir(dst_path: str | None) -> str:
    """The absolute local directory a download goes to (a new temporary one when None)."""
    dst_path = os.path.abspath(dst_path or tempfile.mkdtemp())
    if not os.path.isdir(dst_path):
        raise SkiffException.invalid_parameter_value(
            f"The destination path for downloaded artifacts does not exist or is not a "
            f"directory: {dst_path}")
    return dst_path


def checksum_mismatch(local_path: str, where: str, detail: str) -> SkiffException:
    """Remove a download whose checksum disagrees with the store and say so."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(local_path)
    return SkiffException(f"Checksum mismatch downloading {where}: {detail}", "DATA_LOSS")


class ObjectStoreRepository(ArtifactRepository):
    list_page_size: int | None = None  # None: the service's default page size
    prefix: str = ""  # the key prefix of the repository's root (no slashes at the ends)

    # -- hooks each backend implements --------------------------------------------------
    def _errors(self, key: str | None = None):
        """A context manager turning SDK errors into one-line SkiffExceptions."""
        raise NotImplementedError

    def _list_entries(self, prefix: str) -> Iterator[ListedEntry]:
        """Objects and sub-prefixes directly under ``prefix`` (delimiter ``/``), paged with
        ``list_page_size``."""
        raise NotImplementedError

    def _walk(self, dir_key: str) -> list[StoredObject]:
        """Every object below ``dir_key`` (recursive), leaving out ``.../`` markers."""
        raise NotImplementedError

    def _stat(self, key: str) -> StoredObject:
        """The object ``key``; raises a RESOURCE_DOES_NOT_EXIST SkiffException if missing."""
        raise NotImplementedError

    def _download_object(self, obj: StoredObject, local_path: str, quiet: bool = False):
        """Download one object to ``local_path`` (written under a temporary name first),
        checking its checksum. ``quiet``: no progress bar of its own."""
        raise NotImplementedError

    def _put_bytes(self, key: str, data: bytes) -> None:
        """Store a small object in one atomic request."""
        raise NotImplementedError

    def _put_parts(self, key: str, parts: Iterable[bytes], advance=None,
                   streaming: bool = False) -> None:
        """Store an object from equal parts (multipart, blocks, resumable chunks; the last
        may be shorter); nothing is visible under ``key`` unless every part arrived.
        ``streaming``: the server's proxy, which keeps fewer parts in memory."""
        raise NotImplementedError

    def _delete_one(self, key: str) -> None:
        """Delete one object; a missing one is not an error."""
        raise NotImplementedError

    # -- knobs a backend may change -------------------------------------------------------
    def _file_workers(self) -> int:
        """Files transferred at once when logging or downloading a tree."""
        return max_workers()

    def _upload_part_size(self) -> int:
        return part_size()

    def _stream_part_size(self, size: int | None) -> int:
        """Parts for the server's proxy: small, so an upload holds little memory, unless
        the total ``size`` (when known) needs larger ones to fit the part-count limit."""
        return stream_part_size(size)

    def _put_small_file(self, local_file: str, key: str) -> None:
        with open(local_file, "rb") as f:
            data = f.read()
        self._put_bytes(key, data)

    def _put_large_file(self, local_file: str, key: str, advance) -> None:
        self._put_parts(key, file_chunks(local_file, self._upload_part_size()), advance)

    def _delete_keys(self, keys: list[str]) -> None:
        run_parallel(self._delete_one, keys, self._file_workers())

    # -- keys ------------------------------------------------------------------------------
    def _key(self, path: str | None) -> str:
        rel = validate_relative_path(path)
        return posixpath.join(self.prefix, rel) if self.prefix and rel else (rel or self.prefix)

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key

    # -- uploads ---------------------------------------------------------------------------
    def log_artifact(self, local_file, artifact_path=None):
        dest = validate_relative_path(artifact_path)
        name = os.path.basename(local_file)
        self._upload_file(local_file, self._key(posixpath.join(dest, name) if dest else name))

    def log_artifacts(self, local_dir, artifact_path=None):
        dest = validate_relative_path(artifact_path)
        files = [(path, rel, os.path.getsize(path)) for path, rel in
                 list_local_files(local_dir)]
        with progress_bar(sum(size for *_, size in files),
                          f"Uploading {len(files)} files") as advance:
            def one(item):
                path, rel, size = item
                self._upload_file(path, self._key(posixpath.join(dest, rel) if dest else rel),
                                  size)
                advance(size)

            run_parallel(one, files, self._file_workers())

    def _upload_file(self, local_file: str, key: str, size: int | None = None) -> None:
        size = os.path.getsize(local_file) if size is None else size
        if size < multipart_threshold():
            self._put_small_file(local_file, key)
            return
        with progress_bar(size, f"Uploading {os.path.basename(local_file)}") as advance:
            self._put_large_file(local_file, key, advance)

    def write_stream(self, artifact_path, chunks, size=None):
        key = self._key(artifact_path)
        if not validate_relative_path(artifact_path):
            raise SkiffException.invalid_parameter_value("write_stream needs a file path")
        parts = split_parts(chunks, self._stream_part_size(size))
        first = next(parts)
        second = next(parts, None)
        if second is None:  # the whole stream fits one request: one atomic write
            self._put_bytes(key, first)
            return
        rest = itertools.chain([first, second], parts)
        del first, second  # the chain owns them now; let them go once sent
        self._put_parts(key, rest, streaming=True)

    # -- listing ---------------------------------------------------------------------------
    def list_artifacts(self, path=None):
        dir_key = self._key(path)
        prefix = f"{dir_key}/" if dir_key else ""
        with self._errors():
            infos = [FileInfo(self._rel(entry.key.rstrip("/")), entry.is_dir,
                              None if entry.is_dir else entry.size)
                     for entry in self._list_entries(prefix)
                     if entry.key != prefix]  # a "folder" marker object
        return sorted(infos, key=lambda f: f.path)

    def file_size(self, artifact_path):
        try:
            return self._stat(self._key(artifact_path)).size
        except SkiffException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    # -- downloads -------------------------------------------------------------------------
    def download_artifacts(self, artifact_path, dst_path=None):
        rel = validate_relative_path(artifact_path)
        dst_path = destination_dir(dst_path)
        objects = self._walk(self._key(rel))
        if not objects and not rel:
            return dst_path
        if not objects:  # a single file (or nothing: the download says so)
            local = local_target(dst_path, rel)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            self._download_file(rel, local)
            return local
        made: set[str] = set()  # directories already created (10,000 files: skip the stats)
        targets = {obj.key: local_target(dst_path, self._rel(obj.key)) for obj in objects}
        with progress_bar(sum(o.size for o in objects),
                          f"Downloading {len(objects)} files") as advance:
            def one(obj: StoredObject):
                local = targets[obj.key]  # every key checked before any download
                parent = os.path.dirname(local)
                if parent not in made:
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                self._download_object(obj, local, quiet=True)
                advance(obj.size)

            run_parallel(one, objects, self._file_workers())
        return os.path.join(dst_path, rel) if rel else dst_path

    def _download_file(self, remote_file_path, local_path):
        self._download_object(self._stat(self._key(remote_file_path)), local_path)

    # -- deleting --------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path=None):
        key = self._key(artifact_path)
        keys = [o.key for o in self._walk(key)]
        if key:
            keys.append(key)  # the path may name a single file
        with self._errors(key):
            self._delete_keys(keys)
