"""Optional mixin for repositories that can back the server's proxied multipart upload
routes (``/api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<dir>``, where MLflow's
client puts the artifact directory in the URL and its local file in the body's ``path``; the
server joins the directory and that file's name into the ``path`` given below).

The flow, as MLflow's client drives it:

1. ``create_multipart_upload(path, num_parts)`` starts an upload of the file ``path``
   (relative to the repository root) and returns a :class:`CreateMultipartUpload` whose
   ``to_dict()`` is the route's JSON body: ``{"upload_id": str, "credentials": [{"url":
   str, "part_number": int, "headers": {str: str}}, ...]}``: one presigned URL per part,
   numbered from 1, that the client PUTs the part's bytes to (with ``headers``).
2. ``complete_multipart_upload(path, upload_id, parts)`` where ``parts`` is a list of
   :class:`MultipartUploadPart` (from the JSON ``{"part_number", "etag", "url"}``; the
   ``etag`` is the ETag header each PUT returned) makes the object visible under ``path``.
3. ``abort_multipart_upload(path, upload_id)`` discards the parts; nothing becomes visible.

A repository without the mixin answers 501 ``NOT_IMPLEMENTED`` through
:func:`supports_multipart_upload`.
"""

from __future__ import annotations

import attrs

from skiff.errors import SkiffException


@attrs.define
class MultipartUploadCredential:
    url: str
    part_number: int
    headers: dict = attrs.field(factory=dict)

    def to_dict(self) -> dict:
        return {"url": self.url, "part_number": self.part_number, "headers": dict(self.headers)}


@attrs.define
class CreateMultipartUpload:
    upload_id: str
    credentials: list[MultipartUploadCredential]

    def to_dict(self) -> dict:
        return {"upload_id": self.upload_id,
                "credentials": [c.to_dict() for c in self.credentials]}


@attrs.define
class MultipartUploadPart:
    part_number: int
    etag: str = ""
    url: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> MultipartUploadPart:
        return cls(int(d["part_number"]), d.get("etag") or "", d.get("url") or "")


class MultipartUploadMixin:
    """Marks a repository able to serve the proxied multipart routes."""

    def create_multipart_upload(self, artifact_path: str, num_parts: int = 1,
                                ) -> CreateMultipartUpload:
        raise NotImplementedError

    def complete_multipart_upload(self, artifact_path: str, upload_id: str,
                                  parts: list[MultipartUploadPart]) -> None:
        raise NotImplementedError

    def abort_multipart_upload(self, artifact_path: str, upload_id: str) -> None:
        raise NotImplementedError


def supports_multipart_upload(repository) -> bool:
    return isinstance(repository, MultipartUploadMixin)


def require_multipart_upload(repository) -> MultipartUploadMixin:
    if not supports_multipart_upload(repository):
        raise SkiffException(
            "Multipart upload is not supported for the current artifact repository",
            "NOT_IMPLEMENTED",
        )
    return repository


def coerce_parts(parts) -> list[MultipartUploadPart]:
    """Accept MultipartUploadPart objects or the route's JSON dicts; sorted by number."""
    out = [p if isinstance(p, MultipartUploadPart) else MultipartUploadPart.from_dict(p)
           for p in parts]
    return sorted(out, key=lambda p: p.part_number)
