"""/health, /version, server-info, the UI helpers (/get-artifact, upload-artifact,
get-history-bulk) and the placeholder front page."""

from __future__ import annotations

import html

from flask import Blueprint, Response, request

from skiff.errors import SkiffException
from skiff.validation import validate_relative_path, validate_run_id
from skiff_server.artifact_access import repository_for
from skiff_server.request import STR, get_params
from skiff_server.response import empty, json_response
from skiff_server.state import state, tracking_store
from skiff_server.streaming import download_response, request_chunks

health_bp = Blueprint("health", __name__)
api_bp = Blueprint("misc_api", __name__)
ajax_bp = Blueprint("misc_ajax", __name__)
placeholder_bp = Blueprint("placeholder", __name__)


def _version() -> str:
    from skiff.version import VERSION

    return VERSION


@health_bp.route("/health", methods=["GET"])
def health():
    return Response("OK", mimetype="text/plain")


@health_bp.route("/version", methods=["GET"])
def version():
    return Response(_version(), mimetype="text/plain")


def _server_info():
    from skiff.artifacts.multipart import supports_multipart_upload

    cfg = state().config
    store = None
    if not cfg.artifacts_only:
        store = type(state().tracking_store).__name__
    info = {
        "store_type": store,
        "workspaces_enabled": False,
        "multipart_uploads_enabled": bool(
            cfg.serve_artifacts and supports_multipart_upload(state().destination)),
        "artifact_serving_enabled": cfg.serve_artifacts,
        "artifacts_only": cfg.artifacts_only,
        "server": "skiff",
        "version": _version(),
    }
    return json_response({k: v for k, v in info.items() if v is not None})


for _prefix in ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"):
    api_bp.add_url_rule(f"{_prefix}/server-info", f"server_info{_prefix.split('/')[1]}",
                        _server_info, methods=["GET"])


@ajax_bp.route("/get-artifact", methods=["GET"])
def get_artifact():
    p = get_params({"run_id": STR, "run_uuid": STR, "path": STR}, ["run_id", "path"])
    validate_run_id(p["run_id"])
    path = validate_relative_path(p["path"])
    run = tracking_store().get_run(p["run_id"])
    return download_response(repository_for(run.info.artifact_uri), path)


@ajax_bp.route("/ajax-api/2.0/mlflow/upload-artifact", methods=["POST"])
def upload_artifact():
    run_id = request.args.get("run_uuid") or request.args.get("run_id")
    path = request.args.get("path")
    if not run_id:
        raise SkiffException.invalid_parameter_value(
            "Missing value for required parameter 'run_uuid'.")
    if not path:
        raise SkiffException.invalid_parameter_value("Missing value for required parameter 'path'.")
    validate_run_id(run_id)
    path = validate_relative_path(path)
    run = tracking_store().get_run(run_id)
    repository_for(run.info.artifact_uri).write_stream(path, request_chunks())
    return empty()


@ajax_bp.route("/ajax-api/2.0/mlflow/metrics/get-history-bulk", methods=["GET"])
def get_history_bulk():
    from skiff_server.routes.metrics import get_history_bulk as bulk

    return bulk()


@ajax_bp.route("/ajax-api/2.0/mlflow/logged-models/<model_id>/artifacts/files",
               methods=["GET"])
def logged_model_file(model_id):
    path = validate_relative_path(request.args.get("artifact_file_path"))
    if not path:
        raise SkiffException.invalid_parameter_value(
            "Missing value for required parameter 'artifact_file_path'.")
    model = tracking_store().get_logged_model(model_id)
    return download_response(repository_for(model.artifact_location), path)


_PLACEHOLDER = """<!doctype html>
<html><head><meta charset="utf-8"><title>Skiff tracking server</title></head>
<body><h1>Skiff tracking server {version}</h1>
<p>The REST API answers under <code>{prefix}/api/2.0/mlflow/</code>. No UI plugin is
installed.</p></body></html>"""


@placeholder_bp.route("/", methods=["GET"])
def index():
    prefix = html.escape(state().config.static_prefix or "")
    return Response(_PLACEHOLDER.format(version=html.escape(_version()), prefix=prefix),
                    mimetype="text/html")
