"""``s3://<bucket>/<prefix>``: artifacts as S3 objects under a key prefix."""

from __future__ import annotations

import hashlib
import itertools
import mimetypes
import os
import posixpath
import urllib.parse

from skiff.artifacts.base import STREAM_CHUNK_SIZE, ArtifactRepository
from skiff.artifacts.multipart import (
    CreateMultipartUpload,
    MultipartUploadCredential,
    MultipartUploadMixin,
    coerce_parts,
)
from skiff.artifacts.transfer import (
    MiB,
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
from skiff_artifacts_s3.client import (
    bucket_owner_args,
    get_client,
    is_retryable,
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


class S3ArtifactRepository(MultipartUploadMixin, ArtifactRepository):
    list_page_size: int | None = None  # None: the service's default (1000 keys)
    def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None):
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)

    @property
    def client(self):
        return get_client()

    # -- keys --------------------------------------------------------------------------------
    def _key(self, path: str | None) -> str:
        rel = validate_relative_path(path)
        return posixpath.join(self.prefix, rel) if self.prefix and rel else (rel or self.prefix)

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1:] if self.prefix else key

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
        args = self._put_args(local_file)
        if size < multipart_threshold():
            with open(local_file, "rb") as f:
                data = f.read()
            self._put_object(key, data, args)
            return
        with progress_bar(size, f"Uploading {os.path.basename(local_file)}") as advance:
            self._multipart_upload(file_chunks(local_file, part_size()), key, args, advance)

    def _put_object(self, key: str, data: bytes, args: dict) -> None:
        md5 = hashlib.md5(data)
        with self._errors(key):
            response = with_retries(
                lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                               ContentMD5=b64(md5.digest()), **args),
                retryable=is_retryable)
        self._check_etag(response.get("ETag", ""), md5.hexdigest(), key, args)

    def _multipart_upload(self, chunks, key: str, args: dict, advance=None, workers=None) -> None:
        """Upload from an iterator of bytes through S3 multipart; the object appears only
        when every part arrived (an error aborts the upload)."""
        client = self.client
        with self._errors(key):
            upload_id = client.create_multipart_upload(
                Bucket=self.bucket, Key=key, **args)["UploadId"]
            try:
                def put(number, data):
                    digest = hashlib.md5(data).digest()
                    response = with_retries(
                        lambda: client.upload_part(
                            Bucket=self.bucket, Key=key, UploadId=upload_id,
                            PartNumber=number, Body=data, ContentMD5=b64(digest)),
                        retryable=is_retryable)
                    return {"PartNumber": number, "ETag": response["ETag"]}, digest

                results, _ = upload_parts(split_parts(chunks, part_size()), put,
                                          progress=advance, workers=workers,
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

    def write_stream(self, artifact_path, chunks):
        key = self._key(artifact_path)
        if not validate_relative_path(artifact_path):
            raise SkiffException.invalid_parameter_value("write_stream needs a file path")
        args = self._put_args(key)
        parts = split_parts(chunks, part_size())
        first = next(parts)
        second = next(parts, None)
        if second is None:  # small: one atomic PUT
            self._put_object(key, first, args)
        else:
            rest = itertools.chain([first, second], parts)
            del first, second  # the chain owns them now; let them go once sent
            self._multipart_upload(rest, key, args, workers=stream_workers())

    # -- listing -----------------------------------------------------------------------------
    def list_artifacts(self, path=None):
        dir_key = self._key(path)
        prefix = f"{dir_key}/" if dir_key else ""
        infos = []
        with self._errors(dir_key):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/", **bucket_owner_args(),
                **self._paging())
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    infos.append(FileInfo(self._rel(common["Prefix"].rstrip("/")), True, None))
                for obj in page.get("Contents", []):
                    if obj["Key"] != prefix:  # a "folder" marker object
                        infos.append(FileInfo(self._rel(obj["Key"]), False, obj["Size"]))
        return sorted(infos, key=lambda f: f.path)

    def _paging(self) -> dict:
        if self.list_page_size:
            return {"PaginationConfig": {"PageSize": self.list_page_size}}
        return {}

    def _walk_keys(self, dir_key: str) -> list[dict]:
        """Every object below ``dir_key`` (recursive, one paged listing)."""
        prefix = f"{dir_key}/" if dir_key else ""
        found = []
        with self._errors(dir_key):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, **bucket_owner_args())
            for page in pages:
                found.extend(o for o in page.get("Contents", []) if not o["Key"].endswith("/"))
        return found

    def file_size(self, artifact_path):
        key = self._key(artifact_path)
        from botocore.exceptions import ClientError

        try:
            with self._errors(key):
                return self.client.head_object(Bucket=self.bucket, Key=key,
                                               **bucket_owner_args())["ContentLength"]
        except SkiffException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        except ClientError:
            return None

    # -- downloads ---------------------------------------------------------------------------
    def download_artifacts(self, artifact_path, dst_path=None):
        import tempfile

        rel = validate_relative_path(artifact_path)
        dst_path = os.path.abspath(dst_path or tempfile.mkdtemp())
        if not os.path.isdir(dst_path):
            raise SkiffException.invalid_parameter_value(
                f"The destination path for downloaded artifacts does not exist or is not a "
                f"directory: {dst_path}")
        objects = self._walk_keys(self._key(rel))
        if not objects and not rel:
            return dst_path
        if not objects:  # a single file (or nothing: the download says so)
            local = os.path.join(dst_path, rel)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            self._download_file(rel, local)
            return local
        total = sum(o["Size"] for o in objects)
        with progress_bar(total, f"Downloading {len(objects)} files") as advance:
            def one(obj):
                file_rel = self._rel(obj["Key"])
                local = os.path.join(dst_path, file_rel)
                os.makedirs(os.path.dirname(local), exist_ok=True)
                self._download_key(obj["Key"], local, obj["Size"], obj["ETag"], quiet=True)
                advance(obj["Size"])

            run_parallel(one, objects)
        return os.path.join(dst_path, rel) if rel else dst_path

    def _download_file(self, remote_file_path, local_path):
        key = self._key(remote_file_path)
        with self._errors(key):
            head = self.client.head_object(Bucket=self.bucket, Key=key, **bucket_owner_args())
        self._download_key(key, local_path, head["ContentLength"], head["ETag"])

    def _download_key(self, key, local_path, size, etag, quiet=False):
        client = self.client
        etag = etag.strip('"')
        owner = bucket_owner_args()
        with self._errors(key):
            part = None
            if "-" in etag and verify_checksums():
                # A multipart ETag is the MD5 of the parts' MD5s: learn the part size.
                part = client.head_object(Bucket=self.bucket, Key=key, PartNumber=1,
                                          **owner)["ContentLength"]
            if size < download_threshold():
                response = client.get_object(Bucket=self.bucket, Key=key,
                                             IfMatch=f'"{etag}"', **owner)
                with progress_bar(0 if quiet else size,
                                  f"Downloading {posixpath.basename(key)}") as advance:
                    result = stream_to_file(counted(response["Body"].iter_chunks(MiB),
                                                     advance), local_path, segment=part)
                if verify_checksums() and etag_is_md5(response):
                    self._check_download(etag, etag_of(result), key, local_path)
                return
            md5_etag = [True]

            def fetch(start, end):
                response = with_retries(lambda: client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}",
                    IfMatch=f'"{etag}"', **owner), retryable=is_retryable)
                md5_etag[0] = md5_etag[0] and etag_is_md5(response)
                return response["Body"].read()

            # Ranges on the original part boundaries give the per-part MD5s for free.
            ranges = None if part is None else [
                (s, min(s + part, size) - 1) for s in range(0, size, part)]
            with progress_bar(0 if quiet else size,
                              f"Downloading {posixpath.basename(key)}") as advance:
                digests = download_ranges(size, fetch, local_path, ranges=ranges,
                                          progress=advance)
        if not verify_checksums() or not md5_etag[0]:
            return
        actual = etag_of(digests) if ranges is not None else md5_of_file(local_path
                                                                          ).hexdigest()
        self._check_download(etag, actual, key, local_path)

    def _check_download(self, etag, actual, key, local_path):
        if verify_checksums() and len(etag.split("-")[0]) == 32 and etag != actual:
            os.remove(local_path)
            raise SkiffException(
                f"Checksum mismatch downloading s3://{self.bucket}/{key}: ETag {etag}, "
                f"got {actual}", "DATA_LOSS")

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

    # -- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path=None):
        key = self._key(artifact_path)
        keys = [o["Key"] for o in self._walk_keys(key)]
        if key:
            keys.append(key)  # the path may name a single file
        client = self.client
        with self._errors(key):
            for start in range(0, len(keys), 1000):
                batch = [{"Key": k} for k in keys[start:start + 1000]]
                client.delete_objects(Bucket=self.bucket,
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
