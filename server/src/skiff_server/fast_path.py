"""``runs/log-metric`` answered below Flask.

A training loop calls log-metric once per point, so the per-request cost of Flask's
contexts, routing and hooks decides how many points a client can log per second. This
WSGI middleware answers the plain, well-formed case of that one route directly: the same
security checks (Host allow-list; requests with an Origin header always take the full
path), the same validation, the same store call. Anything else, including every error,
is passed on to the Flask app unchanged (with the body it already read), so error
messages and edge cases have one implementation.
"""

from __future__ import annotations

import io
import json
import logging

from skiff.entities import Metric
from skiff.errors import INTERNAL_ERROR, SkiffException
from skiff.validation import validate_metric, validate_run_id

_FIELDS = frozenset(("run_id", "run_uuid", "key", "value", "timestamp", "step"))
_MAX_BODY = 64 * 1024  # a one-point request is a few hundred bytes
_log = logging.getLogger(__name__)


class FastLogMetric:
    def __init__(self, wsgi_app, flask_app, config, api_prefixes: tuple[str, ...]):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        prefix = config.static_prefix or ""
        self.paths = frozenset(prefix + base + "/runs/log-metric" for base in api_prefixes)
        self.check_host = not config.disable_security_middleware
        self.allowed_hosts = config.allowed_hosts
        headers = [("Content-Type", "application/json"), ("Content-Length", "2")]
        if self.check_host:
            headers.append(("X-Content-Type-Options", "nosniff"))
            frame = (config.x_frame_options or "").upper()
            if frame and frame != "NONE":
                headers.append(("X-Frame-Options", frame))
        self.headers = headers
        self._store = None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in self.paths and environ.get("REQUEST_METHOD") == "POST":
            if self._eligible(environ):
                length = int(environ["CONTENT_LENGTH"])
                body = environ["wsgi.input"].read(length)
                try:
                    logged = self._log(body)
                except Exception as exc:  # noqa: BLE001 - answered as the Flask app's handler
                    return self._internal_error(exc, start_response)
                if logged:
                    start_response("200 OK", self.headers)
                    return [b"{}"]
                environ["wsgi.input"] = io.BytesIO(body)
        return self.wsgi_app(environ, start_response)

    def _eligible(self, environ) -> bool:
        from skiff_server.security import host_allowed

        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit() or int(length) > _MAX_BODY or "HTTP_ORIGIN" in environ:
            return False
        content_type = environ.get("CONTENT_TYPE") or ""
        if content_type.split(";")[0].strip().lower() != "application/json":
            return False
        host = environ.get("HTTP_HOST", "")
        return not (self.check_host and host and not host_allowed(host, self.allowed_hosts))

    def _log(self, body: bytes) -> bool:
        """Log the point and return True, or store nothing and return False."""
        try:
            p = json.loads(body)
        except ValueError:
            return False
        if type(p) is not dict or not p.keys() <= _FIELDS:
            return False
        run_id = p.get("run_id") or p.get("run_uuid")
        key, value = p.get("key"), p.get("value")
        timestamp, step = p.get("timestamp"), p.get("step", 0)
        if not (type(run_id) is str and type(key) is str and key
                and type(value) in (float, int) and type(timestamp) is int
                and type(step) is int):
            return False
        try:
            validate_run_id(run_id)
            validate_metric(key, value, timestamp, step)
            self.store().log_metric(run_id, Metric(key, float(value), timestamp, step))
        except (SkiffException, OverflowError):
            return False  # nothing was stored; the Flask route reports it
        return True

    def _internal_error(self, exc: Exception, start_response):
        """What the Flask app answers an unexpected store error with (skiff_server.errors):
        below Flask, an exception would reach the WSGI server and drop the connection. The
        call is not repeated: it may have stored part of its work."""
        from skiff_server.errors import internal_error_message

        _log.exception("Unhandled error in POST runs/log-metric")
        body = SkiffException(internal_error_message(exc), INTERNAL_ERROR) \
            .serialize_as_json().encode()
        headers = [(name, str(len(body)) if name == "Content-Length" else value)
                   for name, value in self.headers]
        start_response("500 INTERNAL SERVER ERROR", headers)
        return [body]

    def store(self):
        if self._store is None:
            self._store = self.flask_app.extensions["skiff"].tracking_store
        return self._store
