"""Skiff's exceptions and MLflow's error codes.

Every failure that reaches a user carries an MLflow error code; the server maps it to the
HTTP status below, the CLI prints its message on one line.
"""

from __future__ import annotations

import json

# error_code -> HTTP status, as MLflow's servers answer (anything unknown is 500).
HTTP_STATUS_BY_CODE = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "MALFORMED_REQUEST": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

# Clients map a non-JSON error body back to a code by its status.
CODE_BY_HTTP_STATUS = {400: "BAD_REQUEST", 404: "ENDPOINT_NOT_FOUND", 500: "INTERNAL_ERROR"}
for _code, _status in HTTP_STATUS_BY_CODE.items():
    CODE_BY_HTTP_STATUS.setdefault(_status, _code)

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
INTERNAL_ERROR = "INTERNAL_ERROR"
BAD_REQUEST = "BAD_REQUEST"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"


class SkiffException(Exception):
    """An error with an MLflow error code; ``MlflowException`` is the same class."""

    def __init__(self, message, error_code: str = INTERNAL_ERROR, **extra):
        if not isinstance(error_code, str):  # MLflow code passes proto enum ints sometimes
            error_code = INTERNAL_ERROR
        self.message = str(message)
        self.error_code = error_code
        self.extra = extra
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_CODE.get(self.error_code, 500)

    def get_http_status_code(self) -> int:  # MLflow's name
        return self.http_status

    def to_dict(self) -> dict:
        return {"error_code": self.error_code, "message": self.message, **self.extra}

    def serialize_as_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def invalid_parameter_value(cls, message, **kw):
        return cls(message, INVALID_PARAMETER_VALUE, **kw)


MlflowException = SkiffException


class RestException(SkiffException):
    """An error answered by a tracking server, in MLflow's JSON error shape."""

    def __init__(self, json_body: dict):
        code = json_body.get("error_code", INTERNAL_ERROR)
        message = json_body.get("message", "")
        super().__init__(f"{code}: {message}", code)
        self.json = json_body


class PluginError(SkiffException):
    """A plugin could not be loaded or conflicts with another."""


class PluginConflictError(PluginError):
    """Two plugins registered the same key (scheme, flavor name, target name...)."""


class UnsupportedURIError(SkiffException):
    """No installed plugin handles a URI's scheme; the message names what to install."""

    def __init__(self, message):
        super().__init__(message, INVALID_PARAMETER_VALUE)
