"""``gs://<bucket>/<path>``: artifacts as GCS objects under a name prefix."""

from __future__ import annotations

import base64
import mimetypes
import os
import posixpath
import urllib.parse
from urllib.parse import quote

from skiff.artifacts import transfer
from skiff.artifacts.multipart import MultipartUploadMixin, coerce_parts
from skiff.artifacts.object_store import (
    ListedEntry,
    ObjectStoreRepository,
    StoredObject,
    checksum_mismatch,
)
from skiff.artifacts.transfer import (
    MiB,
    download_ranges,
    download_threshold,
    progress_bar,
    stream_to_file,
    timeout_seconds,
    verify_checksums,
    with_retries,
)
from skiff.env import get_env_int
from skiff.errors import SkiffException
from skiff_artifacts_gcs import composite, multipart
from skiff_artifacts_gcs.client import gcs_errors, get_client, is_retryable, retry_policy
from skiff_artifacts_gcs.streams import (
    NO_HASH,
    IteratorReader,
    ProgressReader,
    new_crc32c,
)

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
    """Bytes per ranged request of a parallel download (MLflow's GCS setting, else the
    shared MULTIPART_DOWNLOAD_CHUNK_SIZE)."""
    return max(_GRANULE, get_env_int("GCS_DOWNLOAD_CHUNK_SIZE", transfer.download_chunk_size()))


def _opts() -> dict:
    """Per-request timeout and retry policy for SDK calls."""
    return {"timeout": timeout_seconds() or 120, "retry": retry_policy()}


class GCSArtifactRepository(MultipartUploadMixin, ObjectStoreRepository):
    def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.bucket_name, self.prefix = parse_gcs_uri(artifact_uri)

    @property
    def client(self):
        return get_client()

    @property
    def bucket(self):
        return self.client.bucket(self.bucket_name)

    def _errors(self, key=None):
        return gcs_errors(self.bucket_name, key)

    # -- uploads -----------------------------------------------------------------------------
    def _upload_part_size(self):
        return upload_chunk_size()

    def _stream_part_size(self, size=None):
        # One resumable chunk in flight at a time (no part-count limit): the proxy holds
        # about two chunks in memory whatever the size.
        return upload_chunk_size(32 * MiB)

    def _put_small_file(self, local_file, key):
        with self._errors(key):
            self.bucket.blob(key).upload_from_filename(
                local_file, content_type=mimetypes.guess_type(local_file)[0],
                checksum=_checksum(), **_opts())

    def _put_large_file(self, local_file, key, advance):
        content_type = mimetypes.guess_type(local_file)[0]
        if composite.enabled(self.bucket, os.path.getsize(local_file)):
            with self._errors(key):
                composite.composite_upload(self.bucket, key, local_file, content_type,
                                           _opts(), _checksum(), advance)
            return
        # Resumable upload in chunks: a dropped chunk is resent, not the whole file.
        blob = self.bucket.blob(key, chunk_size=upload_chunk_size())
        with open(local_file, "rb") as f, self._errors(key):
            blob.upload_from_file(ProgressReader(f, advance), size=os.path.getsize(local_file),
                                  content_type=content_type, checksum=_checksum(), **_opts())

    def _put_bytes(self, key, data):
        with self._errors(key):
            self.bucket.blob(key).upload_from_string(
                data, content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
                checksum=_checksum(), **_opts())

    def _put_parts(self, key, parts, advance=None, streaming=False):
        # A resumable session: the object exists only once the final chunk lands.
        chunk = self._stream_part_size() if streaming else upload_chunk_size()
        blob = self.bucket.blob(key, chunk_size=chunk)
        reader = IteratorReader(parts)
        with self._errors(key):
            blob.upload_from_file(ProgressReader(reader, advance) if advance else reader,
                                  content_type=mimetypes.guess_type(key)[0],
                                  checksum=_checksum(), **_opts())

    # -- listing -----------------------------------------------------------------------------
    def _list_entries(self, prefix):
        listing = self.client.list_blobs(self.bucket_name, prefix=prefix, delimiter="/",
                                         page_size=self.list_page_size, **_opts())
        for page in listing.pages:
            for blob in page:
                yield ListedEntry(blob.name, False, blob.size)
            for sub in page.prefixes:
                yield ListedEntry(sub, True)

    def _walk(self, dir_key):
        prefix = f"{dir_key}/" if dir_key else ""
        with self._errors():
            return [StoredObject(b.name, b.size or 0, b)
                    for b in self.client.list_blobs(self.bucket_name, prefix=prefix, **_opts())
                    if not b.name.endswith("/")]

    def _stat(self, key):
        with self._errors(key):
            blob = self.bucket.get_blob(key, **_opts())
            if blob is None:
                from google.api_core.exceptions import NotFound

                raise NotFound(key)
        return StoredObject(blob.name, blob.size or 0, blob)

    # -- downloads ---------------------------------------------------------------------------
    def _download_object(self, obj, local_path, quiet=False):
        blob, size = obj.native, obj.size
        check = verify_checksums() and bool(blob.crc32c)
        with self._errors(blob.name):
            if size < download_threshold():
                crc = with_retries(lambda: stream_to_file(
                    self._media_chunks(blob), local_path,
                    hasher=new_crc32c() if check else NO_HASH), retryable=is_retryable)
                actual = base64.b64encode(crc.digest()).decode() if check else None
            else:
                crc = new_crc32c() if check else None
                with progress_bar(0 if quiet else size,
                                  f"Downloading {posixpath.basename(blob.name)}") as advance:
                    download_ranges(size, lambda start, end: self._media_chunks(
                        blob, start, end), local_path, chunk=download_chunk_size(),
                        progress=advance, retryable=is_retryable, hasher=crc)
                actual = base64.b64encode(crc.digest()).decode() if check else None
        if check and actual != blob.crc32c:
            raise checksum_mismatch(local_path, f"gs://{self.bucket_name}/{blob.name}",
                                    f"CRC32C {blob.crc32c}, got {actual}")

    def _media_chunks(self, blob, start: int | None = None, end: int | None = None):
        """The stored bytes of ``blob`` (as listed: its generation), streamed in 1 MiB
        chunks straight off the connection (the SDK's downloads read 8 KiB at a time)."""
        from google.api_core.exceptions import from_http_response

        url = blob.media_link or (f"{self.client._connection.API_BASE_URL}/download/storage/"
                                  f"v1/b/{self.bucket_name}/o/{quote(blob.name, safe='')}"
                                  f"?alt=media")
        url += f"&ifGenerationMatch={blob.generation}" if blob.generation else ""
        # gzip: the stored bytes of a gzip-encoded object, never a decompressed copy.
        headers = {"Accept-Encoding": "gzip"}
        if start is not None:
            headers["Range"] = f"bytes={start}-{end}"
        response = self.client._http.get(url, headers=headers, stream=True,
                                         timeout=timeout_seconds() or 120)
        try:
            if response.status_code >= 400:
                raise from_http_response(response)
            yield from response.raw.stream(MiB, decode_content=False)
        finally:
            response.close()

    def open_read(self, artifact_path):
        key = self._key(artifact_path)
        blob = self._stat(key).native

        def chunks():
            with self._errors(key):
                yield from self._media_chunks(blob)

        return chunks()

    # -- deleting ----------------------------------------------------------------------------
    def _delete_one(self, key):
        from google.api_core.exceptions import NotFound

        try:
            with_retries(lambda: self.bucket.blob(key).delete(**_opts()),
                         retryable=is_retryable)
        except NotFound:
            pass

    # -- proxied multipart upload (server's /mpu routes): see skiff_artifacts_gcs.multipart --
    def create_multipart_upload(self, artifact_path, num_parts=1):
        key = self._key(artifact_path)
        with self._errors(key):
            return multipart.create(self.bucket, int(num_parts), _opts())

    def complete_multipart_upload(self, artifact_path, upload_id, parts):
        key = self._key(artifact_path)
        with self._errors(key):
            multipart.complete(self.bucket, key, upload_id, coerce_parts(parts),
                               mimetypes.guess_type(key)[0], _opts())

    def abort_multipart_upload(self, artifact_path, upload_id):
        self._key(artifact_path)
        with self._errors():
            multipart.abort(self.bucket, upload_id, _opts())


def _checksum() -> str | None:
    return "crc32c" if verify_checksums() else None
