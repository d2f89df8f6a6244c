"""``wasbs://<container>@<account>.blob.core.windows.net/<path>`` and
``abfss://<filesystem>@<account>.dfs.core.windows.net/<path>``: artifacts as block blobs."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import posixpath
import re
import uuid
from datetime import datetime, timedelta, timezone

from skiff.artifacts.base import STREAM_CHUNK_SIZE
from skiff.artifacts.multipart import (
    CreateMultipartUpload,
    MultipartUploadCredential,
    MultipartUploadMixin,
    coerce_parts,
)
from skiff.artifacts.object_store import (
    ListedEntry,
    ObjectStoreRepository,
    StoredObject,
    checksum_mismatch,
)
from skiff.artifacts.transfer import (
    download_ranges,
    download_threshold,
    progress_bar,
    stream_to_file,
    stream_workers,
    upload_parts,
    verify_checksums,
    with_retries,
)
from skiff.errors import SkiffException
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


class AzureBlobArtifactRepository(MultipartUploadMixin, ObjectStoreRepository):
    def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.container, self.account, self.blob_host, self.prefix = parse_azure_uri(
            artifact_uri)

    @property
    def service(self):
        return get_service(self.account, self.blob_host)

    @property
    def container_client(self):
        # Built once per service: each client builds its SDK pipeline (a cost per file
        # when thousands of small files go by).
        service = self.service
        cached = getattr(self, "_container_client", None)
        if cached is None or cached[0] is not service:
            cached = self._container_client = (service,
                                               service.get_container_client(self.container))
        return cached[1]

    def _errors(self, key=None):
        return azure_errors(self.container, key, getattr(self.service, "url", None))

    def _file_workers(self):
        return file_workers()

    # -- uploads -----------------------------------------------------------------------------
    def _put_bytes(self, key, data):
        blob = self.container_client.get_blob_client(key)
        settings = _content_settings(key, hashlib.md5(data).digest())
        with self._errors(key):
            # validate_content: the service checks a transactional MD5 of the body.
            with_retries(lambda: blob.upload_blob(data, overwrite=True,
                                                  content_settings=settings,
                                                  validate_content=verify_checksums()),
                         retryable=is_retryable)

    def _put_parts(self, key, parts, advance=None, streaming=False):
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
            block_ids, md5 = upload_parts(parts, stage, progress=advance,
                                          workers=stream_workers() if streaming else None)
            blob.commit_block_list(block_ids, content_settings=_content_settings(
                key, md5.digest()))

    # -- listing -----------------------------------------------------------------------------
    def _list_entries(self, prefix):
        pages = self.container_client.walk_blobs(
            name_starts_with=prefix, delimiter="/",
            results_per_page=self.list_page_size).by_page()
        for page in pages:
            for item in page:
                is_dir = item.name.endswith("/")  # a BlobPrefix: a "directory"
                yield ListedEntry(item.name, is_dir, None if is_dir else item.size)

    def _walk(self, dir_key):
        prefix = f"{dir_key}/" if dir_key else ""
        with self._errors():
            return [StoredObject(b.name, b.size, b)
                    for b in self.container_client.list_blobs(name_starts_with=prefix)
                    if not b.name.endswith("/")]

    def _stat(self, key):
        with self._errors(key):
            props = self.container_client.get_blob_client(key).get_blob_properties()
        return StoredObject(key, props.size, props)

    # -- downloads ---------------------------------------------------------------------------
    def _download_object(self, obj, local_path, quiet=False):
        from azure.core import MatchConditions

        props = obj.native
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
                    return blob.download_blob(offset=start, length=end - start + 1,
                                              **pinned).chunks()

                md5 = hashlib.md5() if expected and verify_checksums() else None
                with progress_bar(0 if quiet else size,
                                  f"Downloading {posixpath.basename(props.name)}") as advance:
                    download_ranges(size, fetch, local_path, progress=advance,
                                    retryable=is_retryable, hasher=md5)
                actual = md5.digest() if md5 is not None else None
        if verify_checksums() and expected and bytes(expected) != actual:
            raise checksum_mismatch(local_path, f"{self.container}/{props.name}",
                                    "Content-MD5 differs")

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
    def _delete_one(self, key):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            with_retries(lambda: self.container_client.delete_blob(key),
                         retryable=is_retryable)
        except ResourceNotFoundError:
            pass

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
