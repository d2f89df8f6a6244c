"""``gs://<bucket>/<path>``: artifacts as GCS objects under a name prefix."""

from __future__ import annotations

import base64
import mimetypes
import os
import posixpath
import tempfile
import urllib.parse

from skiff.artifacts.base import ArtifactRepository
from skiff.artifacts.transfer import (
    MiB,
    download_ranges,
    download_threshold,
    list_local_files,
    multipart_threshold,
    part_size,
    progress_bar,
    run_parallel,
    split_parts,
    timeout_seconds,
    verify_checksums,
    with_retries,
)
from skiff.entities import FileInfo
from skiff.env import get_env_int
from skiff.errors import SkiffException
from skiff.validation import validate_relative_path
from skiff_artifacts_gcs import composite
from skiff_artifacts_gcs.client import gcs_errors, get_client, is_retryable, retry_policy
from skiff_artifacts_gcs.streams import IteratorReader, ProgressReader, crc32c_of_file

_GRANULE = 256 * 1024  # resumable chunks must be multiples of 256 KiB


def parse_gcs_uri(uri: str) -> tuple[str, str]:
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "gs" or not parsed.netloc:
        raise SkiffException.invalid_parameter_value(
            f"Not a GCS URI: {uri!r} (expected gs://<bucket>/<path>)")
    return parsed.netloc, parsed.path.strip("/")


def upload_chunk_size(default: int = 100 * MiB) -> int:
    """Bytes per resumable-upload request (the SDK's own default). Resumable chunks go one
    after another, so they are larger than S3/Azure parts: fewer round trips."""
    size = get_env_int("GCS_UPLOAD_CHUNK_SIZE", default)
    return max(_GRANULE, size - size % _GRANULE)


def download_chunk_size() -> int:
    return max(_GRANULE, get_env_int("GCS_DOWNLOAD_CHUNK_SIZE", 4 * part_size()))


def _opts() -> dict:
    """Per-request timeout and retry policy for SDK calls."""
    return {"timeout": timeout_seconds() or 120, "retry": retry_policy()}


class GCSArtifactRepository(ArtifactRepository):
    list_page_size: int | None = None  # None: the service's default

    def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.bucket_name, self.prefix = parse_gcs_uri(artifact_uri)

    @property
    def client(self):
        return get_client()

    @property
    def bucket(self):
        return self.client.bucket(self.bucket_name)

    def _key(self, path: str | None) -> str:
        rel = validate_relative_path(path)
        return posixpath.join(self.prefix, rel) if self.prefix and rel else (rel or self.prefix)

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key

    def _errors(self, key=None):
        return gcs_errors(self.bucket_name, key)

    # -- uploads -----------------------------------------------------------------------------
    def log_artifact(self, local_file, artifact_path=None):
        dest = validate_relative_path(artifact_path)
        name = os.path.basename(local_file)
        self._upload_file(local_file, self._key(posixpath.join(dest, name) if dest else name))

    def log_artifacts(self, local_dir, artifact_path=None):
        dest = validate_relative_path(artifact_path)
        files = list_local_files(local_dir)
        total = sum(os.path.getsize(path) for path, _ in files)
        with progress_bar(total, f"Uploading {len(files)} files") as advance:
            def one(item):
                path, rel = item
                self._upload_file(path, self._key(posixpath.join(dest, rel) if dest else rel))
                advance(os.path.getsize(path))

            run_parallel(one, files)

    def _upload_file(self, local_file: str, key: str) -> None:
        size = os.path.getsize(local_file)
        content_type = mimetypes.guess_type(local_file)[0]
        checksum = "crc32c" if verify_checksums() else None
        if size < multipart_threshold():
            blob = self.bucket.blob(key)
            with self._errors(key):
                blob.upload_from_filename(local_file, content_type=content_type,
                                          checksum=checksum, **_opts())
            return
        with progress_bar(size, f"Uploading {os.path.basename(local_file)}") as advance:
            if composite.enabled():
                with self._errors(key):
                    composite.composite_upload(self.bucket, key, local_file, content_type,
                                               _opts(), checksum, advance)
                return
            # Resumable upload in chunks: a dropped chunk is resent, not the whole file.
            blob = self.bucket.blob(key, chunk_size=upload_chunk_size())
            with open(local_file, "rb") as f, self._errors(key):
                blob.upload_from_file(ProgressReader(f, advance), size=size,
                                      content_type=content_type, checksum=checksum,
                                      **_opts())

    def write_stream(self, artifact_path, chunks):
        key = self._key(artifact_path)
        if not validate_relative_path(artifact_path):
            raise SkiffException.invalid_parameter_value("write_stream needs a file path")
        content_type = mimetypes.guess_type(key)[0]
        checksum = "crc32c" if verify_checksums() else None
        chunk = upload_chunk_size(32 * MiB)  # the proxy holds about two chunks in memory
        parts = split_parts(chunks, chunk)
        first = next(parts)
        second = next(parts, None)
        with self._errors(key):
            if second is None:  # the whole stream fits one request (atomic)
                self.bucket.blob(key).upload_from_string(
                    first, content_type=content_type or "application/octet-stream",
                    checksum=checksum, **_opts())
                return
            # A resumable session: the object exists only once the final chunk lands.
            blob = self.bucket.blob(key, chunk_size=chunk)
            reader = IteratorReader([first, second], parts)
            del first, second  # the reader owns them now; let them go once sent
            blob.upload_from_file(reader,
                                  content_type=content_type, checksum=checksum,
                                  **_opts())

    # -- listing -----------------------------------------------------------------------------
    def list_artifacts(self, path=None):
        dir_key = self._key(path)
        prefix = f"{dir_key}/" if dir_key else ""
        infos = []
        with self._errors():
            listing = self.client.list_blobs(self.bucket_name, prefix=prefix, delimiter="/",
                                             page_size=self.list_page_size,
                                             **_opts())
            for page in listing.pages:
                for blob in page:
                    if blob.name != prefix:
                        infos.append(FileInfo(self._rel(blob.name), False, blob.size))
                for sub in page.prefixes:
                    infos.append(FileInfo(self._rel(sub.rstrip("/")), True, None))
        return sorted(infos, key=lambda f: f.path)

    def _walk(self, dir_key: str) -> list:
        prefix = f"{dir_key}/" if dir_key else ""
        with self._errors():
            return [b for b in self.client.list_blobs(self.bucket_name, prefix=prefix,
                                                      **_opts())
                    if not b.name.endswith("/")]

    def file_size(self, artifact_path):
        key = self._key(artifact_path)
        with self._errors(key):
            blob = self.bucket.get_blob(key, **_opts())
        return None if blob is None else blob.size

    # -- downloads ---------------------------------------------------------------------------
    def download_artifacts(self, artifact_path, dst_path=None):
        rel = validate_relative_path(artifact_path)
        dst_path = os.path.abspath(dst_path or tempfile.mkdtemp())
        if not os.path.isdir(dst_path):
            raise SkiffException.invalid_parameter_value(
                f"The destination path for downloaded artifacts does not exist or is not a "
                f"directory: {dst_path}")
        blobs = self._walk(self._key(rel))
        if not blobs and not rel:
            return dst_path
        if not blobs:
            local = os.path.join(dst_path, rel)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            self._download_file(rel, local)
            return local
        total = sum(b.size or 0 for b in blobs)
        with progress_bar(total, f"Downloading {len(blobs)} files") as advance:
            def one(blob):
                local = os.path.join(dst_path, self._rel(blob.name))
                os.makedirs(os.path.dirname(local), exist_ok=True)
                self._download_blob(blob, local, quiet=True)
                advance(blob.size or 0)

            run_parallel(one, blobs)
        return os.path.join(dst_path, rel) if rel else dst_path

    def _get_blob(self, key):
        with self._errors(key):
            blob = self.bucket.get_blob(key, **_opts())
        if blob is None:
            with self._errors(key):
                from google.api_core.exceptions import NotFound

                raise NotFound(key)
        return blob

    def _download_file(self, remote_file_path, local_path):
        key = self._key(remote_file_path)
        self._download_blob(self._get_blob(key), local_path)

    def _download_blob(self, blob, local_path, quiet=False):
        size = blob.size or 0
        with self._errors(blob.name):
            if size < download_threshold():
                tmp = f"{local_path}.partial"
                try:
                    with open(tmp, "wb") as f:
                        blob.download_to_file(
                            f, raw_download=True, if_generation_match=blob.generation,
                            checksum="crc32c" if verify_checksums() else None,
                            **_opts())
                    os.replace(tmp, local_path)
                finally:
                    if os.path.exists(tmp):
                        os.remove(tmp)
                return

            def fetch(start, end):
                return with_retries(lambda: blob.download_as_bytes(
                    start=start, end=end, raw_download=True, checksum=None,
                    if_generation_match=blob.generation, **_opts()),
                    retryable=is_retryable)

            with progress_bar(0 if quiet else size,
                              f"Downloading {posixpath.basename(blob.name)}") as advance:
                download_ranges(size, fetch, local_path, chunk=download_chunk_size(),
                                progress=advance)
        if verify_checksums() and blob.crc32c:
            actual = base64.b64encode(crc32c_of_file(local_path)).decode()
            if actual != blob.crc32c:
                os.remove(local_path)
                raise SkiffException(
                    f"Checksum mismatch downloading gs://{self.bucket_name}/{blob.name}: "
                    f"CRC32C {blob.crc32c}, got {actual}", "DATA_LOSS")

    def open_read(self, artifact_path):
        key = self._key(artifact_path)
        blob = self._get_blob(key)
        chunk = download_chunk_size()

        def chunks():
            with self._errors(key), blob.open("rb", chunk_size=chunk, raw_download=True,
                                              if_generation_match=blob.generation) as reader:
                while data := reader.read(chunk):
                    yield data

        return chunks()

    # -- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path=None):
        from google.api_core.exceptions import NotFound

        key = self._key(artifact_path)
        names = [b.name for b in self._walk(key)]
        if key:
            names.append(key)  # the path may name a single file

        def delete(name):
            try:
                with_retries(lambda: self.bucket.blob(name).delete(**_opts()),
                             retryable=is_retryable)
            except NotFound:
                pass

        with self._errors(key):
            run_parallel(delete, names)
