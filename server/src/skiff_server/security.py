"""Host-header allow-list, CORS and the safety headers (as MLflow 3.5+ does), except that a
refused request gets a JSON error naming the setting that would allow it."""

from __future__ import annotations

import fnmatch
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, request

from skiff_server.config import ServerConfig
from skiff_server.errors import error_response

_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
_DEFAULT_ORIGINS = ("http://localhost:*", "https://localhost:*", "http://127.0.0.1:*",
                    "https://127.0.0.1:*", "http://[::1]:*")
_STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
_EXEMPT_PATHS = ("/health",)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_private(name: str) -> bool:
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


def host_allowed(host: str, allowed: list[str] | None) -> bool:
    name = _host_name(host)
    if allowed is None:
        return name in _LOCAL_NAMES or name.endswith(".localhost") or _is_private(name)
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if pattern == "*" or fnmatch.fnmatch(host.lower(), pattern) or fnmatch.fnmatch(
                name, _host_name(pattern)):
            return True
    return False


def origin_allowed(origin: str, allowed: list[str] | None) -> bool:
    patterns = _DEFAULT_ORIGINS if allowed is None else allowed
    origin = origin.lower().rstrip("/")
    return any(p.strip() == "*" or fnmatch.fnmatch(origin, p.strip().lower().rstrip("/"))
               for p in patterns)


def _same_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == (request.host or "").lower()


def install_security(app: Flask, config: ServerConfig) -> None:
    if config.disable_security_middleware:
        return
    allowed_hosts = config.allowed_hosts

    @app.before_request
    def _check_request():
        path = request.path
        if any(path.endswith(p) for p in _EXEMPT_PATHS):
            return None
        host = request.headers.get("Host", "")
        if host and not host_allowed(host, allowed_hosts):
            return error_response(
                f"The Host header {host!r} is not allowed by this server. Start it with "
                f"--allowed-hosts '{_host_name(host)}' (or set SKIFF_SERVER_ALLOWED_HOSTS; "
                "'*' allows any host) to accept it.", "PERMISSION_DENIED", 403)
        origin = request.headers.get("Origin")
        if origin and not _same_origin(origin) and not origin_allowed(
                origin, config.cors_allowed_origins):
            if request.method in _STATE_CHANGING or request.method == "OPTIONS":
                return error_response(
                    f"Cross-origin request from {origin!r} refused. Start the server with "
                    f"--cors-allowed-origins '{origin}' (or set "
                    "SKIFF_SERVER_CORS_ALLOWED_ORIGINS) to accept it.",
                    "PERMISSION_DENIED", 403)
        if request.method == "OPTIONS" and origin:
            from flask import Response

            return Response(status=204)
        return None

    frame_options = (config.x_frame_options or "").upper()

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if frame_options and frame_options != "NONE":
            response.headers.setdefault("X-Frame-Options", frame_options)
        origin = request.headers.get("Origin")
        if origin and (_same_origin(origin) or origin_allowed(
                origin, config.cors_allowed_origins)):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Methods"] = (
                "GET, POST, PUT, PATCH, DELETE, OPTIONS")
            response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Content-Type, Authorization")
        return response
