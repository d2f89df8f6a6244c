"""``wasbs://<container>@<account>.blob.core.windows.net/<path>`` and
``abfss://<filesystem>@<account>.dfs.core.windows.net/<path>``: artifacts as block blobs."""

from __future__ import annotations

import base64
import hashlib
import itertools
import mimetypes
import os
import posixpath
import re
import tempfile
import uuid
from datetime import datetime, timedelta, timezone

from skiff.artifacts.base import STREAM_CHUNK_SIZE, ArtifactRepository
from skiff.artifacts.multipart import (
    CreateMultipartUpload,
    MultipartUploadCredential,
    MultipartUploadMixin,
    coerce_parts,
)
from skiff.artifacts.transfer import (
    download_ranges,
    download_threshold,
    file_chunks,
    list_local_files,
    md5_of_file,
    multipart_threshold,
    part_size,
    progress_bar,
    run_parallel,
    split_parts,
    stream_to_file,
    stream_workers,
    upload_parts,
    verify_checksums,
    with_retries,
)
from skiff.entities import FileInfo
from skiff.errors import SkiffException
from skiff.validation import validate_relative_path
from skiff_artifacts_azure.client import (
    account_key,
    azure_errors,
    file_workers,
    get_service,
    is_retryable,
)

_URI = re.compile(r"^(?P<scheme>wasbs|abfss)://(?P<container>[^@/]+)@(?P<host>[^/]+)/?"
                  r"(?P<path>.*)$")


def parse_azure_uri(uri: str) -> tuple[str, str, str, str]:
    """-> (container, account, blob host, path)."""
    match = _URI.match(uri)
    if not match:
        raise SkiffException.invalid_parameter_value(
            f"Not an Azure URI: {uri!r} (expected wasbs://<container>@<account>.blob.core."
            f"windows.net/<path> or abfss://<filesystem>@<account>.dfs.core.windows.net/<path>)")
    host = match["host"]
    account = host.split(".", 1)[0]
    if match["scheme"] == "abfss":  # ADLS Gen2 accounts also answer on the blob endpoint
        host = host.replace(".dfs.", ".blob.", 1)
    return match["container"], account, host, match["path"].strip("/")


def _content_settings(name: str, md5: bytes | None = None):
    from azure.storage.blob import ContentSettings

    return ContentSettings(content_type=mimetypes.guess_type(name)[0]
                           or "application/octet-stream", content_md5=md5)


def _block_id(upload_id: str, number: int) -> str:
    # Every block id of a blob must have the same length; the upload id keeps two
    # concurrent uploads of one name from mixing their blocks. The SDK base64-encodes it.
    return f"{upload_id}-{number:06d}"


class AzureBlobArtifactRepository(MultipartUploadMixin, ArtifactRepository):
    list_page_size: int | None = None  # None: the service's default (5000)

    def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.container, self.account, self.blob_host, self.prefix = parse_azure_uri(
            artifact_uri)

    @property
    def service(self):
        return get_service(self.account, self.blob_host)

    @property
    def container_client(self):
        return self.service.get_container_client(self.container)

    def _key(self, path: str | None) -> str:
        rel = validate_relative_path(path)
        return posixpath.join(self.prefix, rel) if self.prefix and rel else (rel or self.prefix)

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key

    def _errors(self, key=None):
        return azure_errors(self.container, key, getattr(self.service, "url", None))

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

            run_parallel(one, files, file_workers())

    def _upload_file(self, local_file: str, key: str) -> None:
        size = os.path.getsize(local_file)
        if size < multipart_threshold():
            with open(local_file, "rb") as f:
                self._put_blob(key, f.read())
            return
        with progress_bar(size, f"Uploading {os.path.basename(local_file)}") as advance:
            self._block_upload(file_chunks(local_file, part_size()), key, advance)

    def _put_blob(self, key: str, data: bytes) -> None:
        blob = self.container_client.get_blob_client(key)
        settings = _content_settings(key, hashlib.md5(data).digest())
        with self._errors(key):
            # validate_content: the service checks a transactional MD5 of the body.
            with_retries(lambda: blob.upload_blob(data, overwrite=True,
                                                  content_settings=settings,
                                                  validate_content=verify_checksums()),
                         retryable=is_retryable)

    def _block_upload(self, chunks, key: str, advance=None, workers=None) -> None:
        """Stage blocks in parallel, then commit the list (with the whole MD5): the blob
        changes only at the commit."""
        blob = self.container_client.get_blob_client(key)
        upload_id = uuid.uuid4().hex
        validate = verify_checksums()

        def stage(number, data):
            block_id = _block_id(upload_id, number)
            with_retries(lambda: blob.stage_block(block_id, data, length=len(data),
                                                  validate_content=validate),
                         retryable=is_retryable)
            return block_id

        with self._errors(key):
            block_ids, md5 = upload_parts(split_parts(chunks, part_size()), stage,
                                          progress=advance, workers=workers)
            blob.commit_block_list(block_ids, content_settings=_content_settings(
                key, md5.digest()))

    def write_stream(self, artifact_path, chunks):
        key = self._key(artifact_path)
        if not validate_relative_path(artifact_path):
            raise SkiffException.invalid_parameter_value("write_stream needs a file path")
        parts = split_parts(chunks, part_size())
        first = next(parts)
        second = next(parts, None)
        if second is None:
            self._put_blob(key, first)
        else:
            rest = itertools.chain([first, second], parts)
            del first, second  # the chain owns them now; let them go once sent
            self._block_upload(rest, key, workers=stream_workers())

    # -- listing -----------------------------------------------------------------------------
    def list_artifacts(self, path=None):
        dir_key = self._key(path)
        prefix = f"{dir_key}/" if dir_key else ""
        infos = []
        with self._errors():
            pages = self.container_client.walk_blobs(
                name_starts_with=prefix, delimiter="/",
                results_per_page=self.list_page_size).by_page()
            for page in pages:
                for item in page:
                    if item.name.endswith("/"):  # a BlobPrefix: a "directory"
                        infos.append(FileInfo(self._rel(item.name.rstrip("/")), True, None))
                    elif item.name != prefix:
                        infos.append(FileInfo(self._rel(item.name), False, item.size))
        return sorted(infos, key=lambda f: f.path)

    def _walk(self, dir_key: str) -> list:
        prefix = f"{dir_key}/" if dir_key else ""
        with self._errors():
            return [b for b in self.container_client.list_blobs(name_starts_with=prefix)
                    if not b.name.endswith("/")]

    def file_size(self, artifact_path):
        from azure.core.exceptions import ResourceNotFoundError

        key = self._key(artifact_path)
        try:
            with self._errors(key):
                return self.container_client.get_blob_client(key).get_blob_properties().size
        except SkiffException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        except ResourceNotFoundError:
            return None

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
        total = sum(b.size for b in blobs)
        with progress_bar(total, f"Downloading {len(blobs)} files") as advance:
            def one(props):
                local = os.path.join(dst_path, self._rel(props.name))
                os.makedirs(os.path.dirname(local), exist_ok=True)
                self._download_blob(props, local, quiet=True)
                advance(props.size)

            run_parallel(one, blobs, file_workers())
        return os.path.join(dst_path, rel) if rel else dst_path

    def _download_file(self, remote_file_path, local_path):
        key = self._key(remote_file_path)
        with self._errors(key):
            props = self.container_client.get_blob_client(key).get_blob_properties()
        self._download_blob(props, local_path)

    def _download_blob(self, props, local_path, quiet=False):
        from azure.core import MatchConditions

        blob = self.container_client.get_blob_client(props.name)
        pinned = {"etag": props.etag, "match_condition": MatchConditions.IfNotModified}
        expected = props.content_settings.content_md5
        size = props.size
        with self._errors(props.name):
            if size < download_threshold():
                stream = blob.download_blob(**pinned)
                actual = stream_to_file(stream.chunks(), local_path).digest()
            else:
                def fetch(start, end):
                    return with_retries(lambda: blob.download_blob(
                        offset=start, length=end - start + 1, **pinned).readall(),
                        retryable=is_retryable)

                with progress_bar(0 if quiet else size,
                                  f"Downloading {posixpath.basename(props.name)}") as advance:
                    download_ranges(size, fetch, local_path, progress=advance)
                actual = md5_of_file(local_path).digest() if expected else None
        if verify_checksums() and expected and bytes(expected) != actual:
            os.remove(local_path)
            raise SkiffException(
                f"Checksum mismatch downloading {self.container}/{props.name}: Content-MD5 "
                f"differs", "DATA_LOSS")

    def open_read(self, artifact_path):
        key = self._key(artifact_path)
        with self._errors(key):
            stream = self.container_client.get_blob_client(key).download_blob(
                max_concurrency=1)

        def chunks():
            with self._errors(key):
                for chunk in stream.chunks():
                    for start in range(0, len(chunk), STREAM_CHUNK_SIZE):
                        yield chunk[start:start + STREAM_CHUNK_SIZE]

        return chunks()

    # -- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path=None):
        from azure.core.exceptions import ResourceNotFoundError

        key = self._key(artifact_path)
        names = [b.name for b in self._walk(key)]
        if key:
            names.append(key)
        container = self.container_client

        def delete(name):
            try:
                with_retries(lambda: container.delete_blob(name), retryable=is_retryable)
            except ResourceNotFoundError:
                pass

        with self._errors(key):
            run_parallel(delete, names, file_workers())

    # -- proxied multipart upload: one SAS "Put Block" URL per part ---------------------------
    def create_multipart_upload(self, artifact_path, num_parts=1):
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        key = self._key(artifact_path)
        service = self.service
        shared_key = account_key(service)
        if not shared_key:
            raise SkiffException(
                "Multipart upload through the server needs the storage account key (set "
                "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCESS_KEY)",
                "NOT_IMPLEMENTED")
        upload_id = uuid.uuid4().hex
        sas = generate_blob_sas(service.account_name, self.container, key,
                                account_key=shared_key,
                                permission=BlobSasPermissions(write=True),
                                expiry=datetime.now(timezone.utc) + timedelta(hours=6))
        url = self.container_client.get_blob_client(key).url
        credentials = [
            MultipartUploadCredential(
                url=f"{url}?comp=block&blockid={_wire_block_id(upload_id, n)}&{sas}",
                part_number=n)
            for n in range(1, int(num_parts) + 1)
        ]
        return CreateMultipartUpload(upload_id, credentials)

    def complete_multipart_upload(self, artifact_path, upload_id, parts):
        key = self._key(artifact_path)
        block_ids = [_block_id(upload_id, p.part_number) for p in coerce_parts(parts)]
        with self._errors(key):
            self.container_client.get_blob_client(key).commit_block_list(
                block_ids, content_settings=_content_settings(key))

    def abort_multipart_upload(self, artifact_path, upload_id):
        # Uncommitted blocks are never visible and the service drops them within a week.
        self._key(artifact_path)


def _wire_block_id(upload_id: str, number: int) -> str:
    """The block id as the REST API carries it (what the SDK sends for ``_block_id``)."""
    import urllib.parse

    encoded = base64.b64encode(_block_id(upload_id, number).encode()).decode()
    return urllib.parse.quote(encoded, safe="")
