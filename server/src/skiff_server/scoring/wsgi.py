"""The scoring server's WSGI entry: ``POST /invocations`` and ``GET /ping``/``/health``
answered as plain WSGI, without Flask's request and response objects (a tenth of a
millisecond per request); every other route, and anything unusual about these two, goes to
the Flask app (:mod:`skiff_server.scoring.app`), which the server builds on first use so
that starting it does not import Flask."""

from __future__ import annotations

import threading

JSON_MIME = "application/json"
_STATUS_LINES = {200: "200 OK", 400: "400 BAD REQUEST", 404: "404 NOT FOUND",
                 415: "415 UNSUPPORTED MEDIA TYPE", 500: "500 INTERNAL SERVER ERROR",
                 503: "503 SERVICE UNAVAILABLE", 504: "504 GATEWAY TIMEOUT"}


class HotRoutes:
    """``fallback`` is a WSGI app, or a function building one (called once, when first
    needed)."""

    def __init__(self, invoker, fallback=None, build_fallback=None):
        self.invoker = invoker
        self._fallback = fallback
        self._build_fallback = build_fallback
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        method = environ.get("REQUEST_METHOD")
        if path == "/invocations" and method == "POST":
            length = environ.get("CONTENT_LENGTH")
            stream = environ["wsgi.input"]
            body = stream.read(int(length)) if length else stream.read()
            status, text = self.invoker.invoke(body, environ.get("CONTENT_TYPE"))
            return _respond(start_response, status, text.encode())
        if (path == "/ping" or path == "/health") and method == "GET":
            return _respond(start_response, 200, b"\n")
        return self.fallback()(environ, start_response)

    def fallback(self):
        if self._fallback is None:
            with self._lock:
                if self._fallback is None:
                    self._fallback = self._build_fallback()
        return self._fallback


def _respond(start_response, status: int, data: bytes):
    line = _STATUS_LINES.get(status)
    if line is None:
        from http import HTTPStatus

        line = f"{status} {HTTPStatus(status).phrase}"
    start_response(line, [("Content-Type", JSON_MIME), ("Content-Length", str(len(data)))])
    return [data]


def build_wsgi(model, timeout: float | None):
    """The server's WSGI app for a loaded model; Flask is imported on the first request
    for another route (``/version``, an unknown path)."""
    from skiff_server.scoring.invocations import Invoker

    invoker = Invoker(model, timeout)

    def flask_app():
        from skiff_server.scoring.app import create_app

        return create_app(model, timeout, invoker=invoker)

    return HotRoutes(invoker, build_fallback=flask_app)
