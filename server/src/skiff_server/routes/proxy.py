"""The artifact proxy (``/api/2.0/mlflow-artifacts/...``): upload, download, list and
delete under ``--artifacts-destination``, plus multipart and presigned hooks.

Every path is confined to the destination (``skiff.validation.validate_relative_path``
refuses ``..``, absolute, encoded and backslash forms; the local repository also refuses
symlinks that lead out). Bytes stream both ways in bounded chunks.

Repositories that can do multipart uploads (S3, GCS, Azure) implement
:class:`skiff.artifacts.multipart.MultipartUploadMixin`; others answer 501 NOT_IMPLEMENTED.
"""

from __future__ import annotations

import posixpath
import re

from flask import Blueprint, request

from skiff.errors import SkiffException
from skiff.validation import validate_relative_path
from skiff_server.request import INT, LIST_DICT, STR, get_params
from skiff_server.response import empty, json_response
from skiff_server.state import state
from skiff_server.streaming import download_response, request_chunks

bp = Blueprint("proxy", __name__)


def _path(artifact_path: str | None) -> str:
    # Werkzeug has already decoded %2F etc. once; validation also decodes what is left.
    if artifact_path is not None and (artifact_path.startswith("/") or "//" in artifact_path):
        raise SkiffException.invalid_parameter_value(f"Invalid path: {artifact_path!r}")
    return validate_relative_path(artifact_path)


@bp.route("/artifacts/<path:artifact_path>", methods=["GET"])
def download(artifact_path):
    path = _path(artifact_path)
    if not path:
        raise SkiffException.invalid_parameter_value("Invalid path: an artifact file is needed")
    return download_response(state().destination, path)


@bp.route("/artifacts/<path:artifact_path>", methods=["PUT"])
def upload(artifact_path):
    path = _path(artifact_path)
    if not path or artifact_path.endswith("/"):
        raise SkiffException.invalid_parameter_value(
            f"Invalid path: {artifact_path!r} must name a file")
    destination = state().destination
    if _takes_size(destination):  # the Content-Length lets the store size its parts
        destination.write_stream(path, request_chunks(), size=request.content_length)
    else:
        destination.write_stream(path, request_chunks())
    return empty()


def _takes_size(repository) -> bool:
    import inspect

    try:
        return "size" in inspect.signature(repository.write_stream).parameters
    except (TypeError, ValueError):
        return False


@bp.route("/artifacts", methods=["GET"])
def list_artifacts():
    p = get_params({"path": STR})
    path = _path(p.get("path"))
    files = state().destination.list_artifacts(path or None)
    out = []
    for f in files:
        info = {"path": posixpath.basename(f.path), "is_dir": f.is_dir}
        if not f.is_dir and f.file_size is not None:
            info["file_size"] = f.file_size
        out.append(info)
    return json_response({"files": out} if out else {})


@bp.route("/artifacts/<path:artifact_path>", methods=["DELETE"])
def delete(artifact_path):
    path = _path(artifact_path)
    if not path:
        raise SkiffException.invalid_parameter_value("Invalid path: refusing to delete the root")
    state().destination.delete_artifacts(path)
    return empty()


def _multipart_repo():
    from skiff.artifacts.multipart import require_multipart_upload

    return require_multipart_upload(state().destination)


def _upload_target(artifact_path: str, client_path: str | None) -> str:
    """The file a proxied multipart upload writes. As MLflow's client drives these routes,
    the URL names the artifact *directory* and the body's ``path`` is the client's local
    file (any OS), whose name is kept: ``mpu/create/1/r/artifacts/model`` with ``{"path":
    "/tmp/x/weights.bin"}`` uploads ``1/r/artifacts/model/weights.bin``."""
    directory = _path(artifact_path)
    name = re.split(r"[\\/]", client_path or "")[-1]
    if name in ("", ".", ".."):
        raise SkiffException.invalid_parameter_value(
            f"Invalid path: {client_path!r} must name the file being uploaded")
    return validate_relative_path(posixpath.join(directory, name) if directory else name)


@bp.route("/mpu/create/<path:artifact_path>", methods=["POST"])
def mpu_create(artifact_path):
    p = get_params({"path": STR, "num_parts": INT}, ["path"], present=["num_parts"])
    path = _upload_target(artifact_path, p["path"])
    if p["num_parts"] <= 0:
        raise SkiffException.invalid_parameter_value("num_parts must be a positive integer")
    result = _multipart_repo().create_multipart_upload(path, p["num_parts"])
    return json_response(result.to_dict() if hasattr(result, "to_dict") else result)


@bp.route("/mpu/complete/<path:artifact_path>", methods=["POST"])
def mpu_complete(artifact_path):
    from skiff.artifacts.multipart import coerce_parts

    p = get_params({"path": STR, "upload_id": STR, "parts": LIST_DICT}, ["path", "upload_id"])
    path = _upload_target(artifact_path, p["path"])
    repo = _multipart_repo()
    repo.complete_multipart_upload(path, p["upload_id"], coerce_parts(p.get("parts", [])))
    return empty()


@bp.route("/mpu/abort/<path:artifact_path>", methods=["POST"])
def mpu_abort(artifact_path):
    p = get_params({"path": STR, "upload_id": STR}, ["path", "upload_id"])
    path = _upload_target(artifact_path, p["path"])
    _multipart_repo().abort_multipart_upload(path, p["upload_id"])
    return empty()


@bp.route("/presigned/<path:artifact_path>", methods=["GET"])
def presigned(artifact_path):
    path = _path(artifact_path)
    repo = state().destination
    sign = getattr(repo, "presigned_download_url", None)
    if sign is None:
        raise SkiffException(
            "Presigned URLs are not supported for the current artifact repository",
            "NOT_IMPLEMENTED")
    url, headers = sign(path, 900)
    out = {"url": url, "headers": headers or {}}
    size = repo.file_size(path)
    if size is not None:
        out["file_size"] = size
    return json_response(out)
