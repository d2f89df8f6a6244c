"""artifacts/*: list a run's artifacts; presigned URLs (501 unless a repository can sign)."""

from __future__ import annotations

from flask import Blueprint

from skiff.errors import SkiffException
from skiff.validation import validate_relative_path, validate_run_id
from skiff_server.artifact_access import repository_for
from skiff_server.request import INT, STR, get_params
from skiff_server.response import json_response
from skiff_server.state import tracking_store

bp = Blueprint("run_artifacts", __name__)


def list_files(artifact_uri: str, path: str | None) -> dict:
    path = validate_relative_path(path)
    files = repository_for(artifact_uri).list_artifacts(path or None)
    out = {"root_uri": artifact_uri}
    if files:
        out["files"] = [f.to_dict() for f in files]
    return out


@bp.route("/artifacts/list", methods=["GET"])
def list_artifacts():
    p = get_params({"run_id": STR, "run_uuid": STR, "path": STR, "page_token": STR},
                   ["run_id"])
    validate_run_id(p["run_id"])
    run = tracking_store().get_run(p["run_id"])
    return json_response(list_files(run.info.artifact_uri, p.get("path")))


def _presign(kind: str):
    p = get_params({"run_id": STR, "path": STR, "expiration": INT, "model_id": STR},
                   ["run_id", "path"])
    validate_run_id(p["run_id"])
    path = validate_relative_path(p["path"])
    run = tracking_store().get_run(p["run_id"])
    scoped = repository_for(run.info.artifact_uri)
    sign = getattr(scoped.repo, f"presigned_{kind}_url", None)
    if sign is None:
        raise SkiffException(
            f"Presigned {kind} URLs are not supported for the artifact repository of this "
            "run", "NOT_IMPLEMENTED")
    url, headers = sign(scoped._full(path), p.get("expiration") or 900)
    return json_response({"presigned_url": url, "headers": headers or {}})


@bp.route("/artifacts/presigned-upload-url", methods=["POST"])
def presigned_upload_url():
    return _presign("upload")


@bp.route("/artifacts/presigned-download-url", methods=["POST"])
def presigned_download_url():
    return _presign("download")
