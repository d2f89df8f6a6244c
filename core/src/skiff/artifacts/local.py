"""The ``file:`` artifact repository (plain paths too). Built into core."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import uuid

from skiff.artifacts.base import STREAM_CHUNK_SIZE, ArtifactRepository
from skiff.entities import FileInfo
from skiff.errors import SkiffException
from skiff.utils.uri import local_path_from_uri
from skiff.validation import validate_relative_path

# Uploads in progress: hidden, short (a long final name must still fit), never listed.
_PARTIAL_PREFIX, _PARTIAL_SUFFIX = ".skiff-", ".partial"
_PATH_PROBLEMS = {
    errno.ENAMETOOLONG: "a name in it is longer than the file system allows (255 bytes)",
    errno.EISDIR: "a directory of artifacts is already at that path",
    errno.ENOTDIR: "a file is already where the path needs a directory",
    errno.EEXIST: "a file is already where the path needs a directory",
}


def _path_error(artifact_path, exc: OSError) -> SkiffException | None:
    """The caller's bad path, when that is why the file system refused a write."""
    problem = _PATH_PROBLEMS.get(exc.errno)
    if problem is None:
        return None
    return SkiffException.invalid_parameter_value(
        f"Invalid artifact path {artifact_path!r}: {problem}.")


class LocalArtifactRepository(ArtifactRepository):
    def __init__(self, artifact_uri: str, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.root = os.path.abspath(local_path_from_uri(artifact_uri))

    def _resolve(self, artifact_path: str | None) -> str:
        rel = validate_relative_path(artifact_path)
        full = os.path.join(self.root, rel) if rel else self.root
        # Refuse symlinks that lead outside the root.
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(full)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise SkiffException.invalid_parameter_value(f"Invalid path: {artifact_path!r}")
        return full

    def log_artifact(self, local_file, artifact_path=None):
        dest_dir = self._resolve(artifact_path)
        dest = os.path.join(dest_dir, os.path.basename(local_file))
        try:
            os.makedirs(dest_dir, exist_ok=True)
            if os.path.abspath(local_file) != os.path.abspath(dest):
                _atomic_copy(local_file, dest)
        except OSError as exc:
            raise _path_error(artifact_path, exc) or exc from None

    def log_artifacts(self, local_dir, artifact_path=None):
        dest = self._resolve(artifact_path)
        os.makedirs(dest, exist_ok=True)
        shutil.copytree(local_dir, dest, dirs_exist_ok=True)

    def list_artifacts(self, path=None):
        rel = validate_relative_path(path)
        full = self._resolve(rel)
        if not os.path.isdir(full):
            return []
        infos = []
        with os.scandir(full) as entries:
            for entry in entries:
                if entry.name.startswith(_PARTIAL_PREFIX) and \
                        entry.name.endswith(_PARTIAL_SUFFIX):
                    continue
                child = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir():
                    infos.append(FileInfo(child, True, None))
                else:
                    infos.append(FileInfo(child, False, entry.stat().st_size))
        return sorted(infos, key=lambda f: f.path)

    def _is_directory(self, artifact_path):
        full = self._resolve(artifact_path)
        if not os.path.exists(full):
            raise SkiffException(
                f"No such file or directory: '{artifact_path}'", "RESOURCE_DOES_NOT_EXIST"
            )
        return os.path.isdir(full)

    def _download_file(self, remote_file_path, local_path):
        shutil.copyfile(self._resolve(remote_file_path), local_path)

    def delete_artifacts(self, artifact_path=None):
        full = self._resolve(artifact_path)
        if os.path.isdir(full):
            shutil.rmtree(full)
        elif os.path.exists(full):
            os.remove(full)

    def open_read(self, artifact_path):
        full = self._resolve(artifact_path)
        if not os.path.isfile(full):
            raise SkiffException(
                f"No such file: '{artifact_path}'", "RESOURCE_DOES_NOT_EXIST"
            )
        f = open(full, "rb")  # noqa: SIM115 - closed by the generator

        def chunks():
            with f:
                while chunk := f.read(STREAM_CHUNK_SIZE):
                    yield chunk

        return chunks()

    def file_size(self, artifact_path):
        full = self._resolve(artifact_path)
        return os.path.getsize(full) if os.path.isfile(full) else None

    def write_stream(self, artifact_path, chunks, size=None):
        full = self._resolve(artifact_path)
        # Write beside the target and rename, so a broken upload leaves nothing behind.
        tmp = os.path.join(os.path.dirname(full),
                           f"{_PARTIAL_PREFIX}{uuid.uuid4().hex}{_PARTIAL_SUFFIX}")
        try:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if os.path.isdir(full):  # checked first: the upload would be read for nothing
                raise OSError(errno.EISDIR, "Is a directory", full)
            with open(tmp, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
            os.replace(tmp, full)
        except BaseException as exc:
            if os.path.exists(tmp):
                os.remove(tmp)
            refused = _path_error(artifact_path, exc) if isinstance(exc, OSError) else None
            if refused is not None:
                raise refused from None
            raise


def _atomic_copy(src: str, dest: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=_PARTIAL_PREFIX,
                               suffix=_PARTIAL_SUFFIX)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
