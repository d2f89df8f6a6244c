"""Every failure becomes MLflow's JSON error shape with the HTTP status of its code; this is
the one place that maps exceptions to responses."""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from skiff.errors import HTTP_STATUS_BY_CODE, SkiffException
from skiff_server.response import json_response

_log = logging.getLogger("skiff_server")

_API_MARKERS = ("/api/", "/ajax-api/")


def error_response(message: str, error_code: str, status: int | None = None, **extra):
    payload = {"error_code": error_code, "message": message, **extra}
    return json_response(payload, status or HTTP_STATUS_BY_CODE.get(error_code, 500))


def _is_api_path() -> bool:
    return any(marker in request.path for marker in _API_MARKERS)


def _skiff_error(exc: SkiffException):
    return json_response(exc.to_dict(), exc.http_status)


def _http_error(exc: HTTPException):
    # Outside the API (the UI's pages) the framework's own page is fine.
    if not _is_api_path():
        return exc
    if exc.code == 404:
        response = error_response(
            f"No API endpoint {request.method} {request.path}. See the API docs for the "
            "routes this server answers.", "ENDPOINT_NOT_FOUND", 404)
    elif exc.code == 405:
        allowed = ", ".join(sorted(set(getattr(exc, "valid_methods", None) or []) - {"OPTIONS", "HEAD"}))
        response = error_response(
            f"The method {request.method} is not allowed for {request.path}"
            + (f"; use {allowed}" if allowed else ""), "BAD_REQUEST", 405)
        if allowed:
            response.headers["Allow"] = allowed
    elif exc.code == 413:
        response = error_response(
            "The request body is too large for this endpoint.", "INVALID_PARAMETER_VALUE", 413)
    else:
        code = "BAD_REQUEST" if (exc.code or 500) < 500 else "INTERNAL_ERROR"
        response = error_response(exc.description or exc.name, code, exc.code)
    return response


def internal_error_message(exc: BaseException) -> str:
    """The message of a 500 (INTERNAL_ERROR) for an unexpected exception."""
    return f"{type(exc).__name__}: {exc}"


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    _log.exception("Unhandled error in %s %s", request.method, request.path)
    return error_response(internal_error_message(exc), "INTERNAL_ERROR", 500)


def install_error_handlers(app: Flask) -> None:
    app.register_error_handler(SkiffException, _skiff_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
