"""``s3://<bucket>/<prefix>``: artifacts as S3 objects under a key prefix."""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import urllib.parse
import zlib

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
    MiB,
    download_chunk_size,
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
from skiff_artifacts_s3.client import (
    bucket_owner_args,
    get_client,
    is_retryable,
    part_checksums_wanted,
    s3_errors,
    upload_extra_args,
)
from skiff_artifacts_s3.etags import b64, counted, etag_is_md5, etag_of


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SkiffException.invalid_parameter_value(
            f"Not an S3 URI: {uri!r} (expected s3://<bucket>/<path>)")
    return parsed.netloc, parsed.path.strip("/")


class S3ArtifactRepository(MultipartUploadMixin, ObjectStoreRepository):
    def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)

    @property
    def client(self):
        return get_client()

    def _errors(self, key=None):
        return s3_errors(self.bucket, key)

    def _put_args(self, name: str) -> dict:
        args = {}
        content_type = mimetypes.guess_type(name)[0]
        if content_type:
            args["ContentType"] = content_type
        args.update(upload_extra_args())
        args.update(bucket_owner_args())
        return args

    def _check_etag(self, etag: str, expected: str, key: str, args: dict) -> None:
        if not verify_checksums() or str(args.get("ServerSideEncryption", "")).startswith(
                "aws:kms"):
            return  # SSE-KMS ETags are not MD5s
        if etag.strip('"') != expected:
            try:  # a corrupt object must not stay under the final name
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except Exception:  # the mismatch is the error to report
                pass
            raise SkiffException(
                f"Checksum mismatch for s3://{self.bucket}/{key}: store has ETag {etag}, "
                f"expected {expected}", "DATA_LOSS")

    # -- uploads -----------------------------------------------------------------------------
    def _put_bytes(self, key: str, data: bytes) -> None:
        args = self._put_args(key)
        md5 = hashlib.md5(data)
        with self._errors(key):
            response = with_retries(
                lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                               ContentMD5=b64(md5.digest()), **args),
                retryable=is_retryable)
        self._check_etag(response.get("ETag", ""), md5.hexdigest(), key, args)

    def _put_parts(self, key, parts, advance=None, streaming=False) -> None:
        """S3 multipart: the object appears only at completion (an error aborts)."""
        client = self.client
        args = self._put_args(key)
        checksums = part_checksums_wanted()

        def crc(data) -> dict:
            return {"ChecksumCRC32": b64(zlib.crc32(data).to_bytes(4, "big"))} \
                if checksums else {}

        with self._errors(key):
            upload_id = client.create_multipart_upload(
                Bucket=self.bucket, Key=key, **args,
                **({"ChecksumAlgorithm": "CRC32"} if checksums else {}))["UploadId"]
            try:
                def put(number, data):
                    digest = hashlib.md5(data).digest()
                    response = with_retries(
                        lambda: client.upload_part(
                            Bucket=self.bucket, Key=key, UploadId=upload_id,
                            PartNumber=number, Body=data, ContentMD5=b64(digest), **crc(data)),
                        retryable=is_retryable)
                    return {"PartNumber": number, "ETag": response["ETag"], **crc(data)}, digest

                results, _ = upload_parts(parts, put, progress=advance,
                                          workers=stream_workers() if streaming else None,
                                          whole_md5=False)
                done = client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id,
                    MultipartUpload={"Parts": [part for part, _ in results]})
            except BaseException:
                try:
                    client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                  UploadId=upload_id)
                except Exception:  # the original error matters more
                    pass
                raise
        expected = hashlib.md5(b"".join(d for _, d in results)).hexdigest()
        self._check_etag(done.get("ETag", ""), f"{expected}-{len(results)}", key, args)

    # -- listing -----------------------------------------------------------------------------
    def _list_entries(self, prefix):
        paging = {"PaginationConfig": {"PageSize": self.list_page_size}} \
            if self.list_page_size else {}
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/", **bucket_owner_args(), **paging)
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                yield ListedEntry(common["Prefix"], True)
            for obj in page.get("Contents", []):
                yield ListedEntry(obj["Key"], False, obj["Size"])

    def _walk(self, dir_key):
        prefix = f"{dir_key}/" if dir_key else ""
        found = []
        with self._errors(dir_key):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, **bucket_owner_args())
            for page in pages:
                found.extend(StoredObject(o["Key"], o["Size"], o["ETag"])
                             for o in page.get("Contents", []) if not o["Key"].endswith("/"))
        return found

    def _stat(self, key):
        with self._errors(key):
            head = self.client.head_object(Bucket=self.bucket, Key=key, **bucket_owner_args())
        return StoredObject(key, head["ContentLength"], head["ETag"])

    # -- downloads ---------------------------------------------------------------------------
    def _download_object(self, obj, local_path, quiet=False):
        client = self.client
        key, size, etag = obj.key, obj.size, obj.native.strip('"')
        owner = bucket_owner_args()
        bar = progress_bar(0 if quiet else size, f"Downloading {posixpath.basename(key)}")
        with self._errors(key):
            part = None
            if "-" in etag and verify_checksums():
                # A multipart ETag is the MD5 of the parts' MD5s: learn the part size.
                part = client.head_object(Bucket=self.bucket, Key=key, PartNumber=1,
                                          **owner)["ContentLength"]
            if size < download_threshold():
                response = client.get_object(Bucket=self.bucket, Key=key,
                                             IfMatch=f'"{etag}"', **owner)
                with bar as advance:
                    result = stream_to_file(counted(response["Body"].iter_chunks(MiB),
                                                     advance), local_path, segment=part)
                if verify_checksums() and etag_is_md5(response):
                    self._check_download(etag, etag_of(result), key, local_path)
                return
            md5_etag = [True]

            def fetch(start, end):
                response = client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}",
                    IfMatch=f'"{etag}"', **owner)
                md5_etag[0] = md5_etag[0] and etag_is_md5(response)
                return response["Body"].iter_chunks(MiB)

            # Ranges on the original part boundaries give the per-part MD5s for free.
            span = download_chunk_size() if part is None else \
                part * max(1, download_chunk_size() // part)
            ranges = [(s, min(s + span, size) - 1) for s in range(0, size, span)]
            # a one-part ETag is the MD5 of the whole object
            md5 = hashlib.md5() if part is None and verify_checksums() else None
            with bar as advance:
                digests = download_ranges(size, fetch, local_path, ranges=ranges,
                                          segment=part, progress=advance,
                                          retryable=is_retryable, hasher=md5)
        if not verify_checksums() or not md5_etag[0]:
            return
        actual = etag_of(digests) if part is not None else md5.hexdigest()
        self._check_download(etag, actual, key, local_path)

    def _check_download(self, etag, actual, key, local_path):
        if verify_checksums() and len(etag.split("-")[0]) == 32 and etag != actual:
            raise checksum_mismatch(local_path, f"s3://{self.bucket}/{key}",
                                    f"ETag {etag}, got {actual}")

    def open_read(self, artifact_path):
        key = self._key(artifact_path)
        with self._errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key,
                                          **bucket_owner_args())["Body"]

        def chunks():
            try:
                yield from body.iter_chunks(STREAM_CHUNK_SIZE)
            finally:
                body.close()

        return chunks()

    # -- deleting: batches of 1000 keys per request ------------------------------------------
    def _delete_keys(self, keys):
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket,
                                       Delete={"Objects": batch, "Quiet": True},
                                       **bucket_owner_args())

    # -- proxied multipart upload (server's /mpu routes) -------------------------------------
    def create_multipart_upload(self, artifact_path, num_parts=1):
        key = self._key(artifact_path)
        client = self.client
        with self._errors(key):
            upload_id = client.create_multipart_upload(
                Bucket=self.bucket, Key=key, **self._put_args(key))["UploadId"]
            credentials = [
                MultipartUploadCredential(
                    url=client.generate_presigned_url(
                        "upload_part", Params={"Bucket": self.bucket, "Key": key,
                                               "UploadId": upload_id, "PartNumber": number}),
                    part_number=number)
                for number in range(1, int(num_parts) + 1)
            ]
        return CreateMultipartUpload(upload_id, credentials)

    def complete_multipart_upload(self, artifact_path, upload_id, parts):
        key = self._key(artifact_path)
        parts = [{"PartNumber": p.part_number, "ETag": p.etag} for p in coerce_parts(parts)]
        with self._errors(key):
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                                  UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts})

    def abort_multipart_upload(self, artifact_path, upload_id):
        key = self._key(artifact_path)
        with self._errors(key):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                               UploadId=upload_id)
