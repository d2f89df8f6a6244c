"""The UI blueprint: page rendering, store access and error pages shared by the views."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory

from skiff.errors import SkiffException

STATIC_DIR = Path(__file__).parent / "static"
DIST_DIR = STATIC_DIR / "dist"
# Scripts run only from our own origin; data travels in inert JSON blocks, never inline code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'")


def build_blueprint() -> Blueprint:
    from skiff_server.ui import (
        formatting,
        views_artifacts,
        views_charts,
        views_compare,
        views_experiments,
        views_registry,
        views_run,
        views_runs,
    )

    bp = Blueprint("skiff_ui", __name__, template_folder="templates")
    formatting.install(bp)
    bp.add_url_rule("/static-ui/<path:filename>", "static_file", _static_file)
    for module in (views_experiments, views_runs, views_run, views_artifacts, views_charts,
                   views_compare, views_registry):
        module.add_routes(bp)
    bp.after_request(_page_headers)
    bp.register_error_handler(SkiffException, _error_page)
    return bp


def _static_file(filename: str):
    response = send_from_directory(STATIC_DIR, filename, max_age=3600)
    return response


def _page_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def assets_built() -> bool:
    return (DIST_DIR / "skiff.js").is_file()


def _error_page(exc: SkiffException):
    if "/_ui/api/" in request.path:
        from skiff_server.response import json_response

        return json_response(exc.to_dict(), exc.http_status)
    return page("error.html", status=exc.http_status, title="Error", message=exc.message,
                error_code=exc.error_code)


def page(template: str, status: int = 200, **context) -> Response:
    body = render_template(f"skiff_ui/{template}", assets_built=assets_built(),
                           version=_version(), **context)
    return Response(body, status=status, mimetype="text/html")


def _version() -> str:
    try:
        from skiff.version import VERSION

        return VERSION
    except Exception:  # pragma: no cover - version is informational only
        return ""


def tracking_store():
    return current_app.extensions["skiff"].tracking_store


def registry_store():
    """The registry store, or None with the reason when no plugin provides one."""
    try:
        return current_app.extensions["skiff"].registry_store, None
    except SkiffException as exc:
        return None, exc.message
    except Exception as exc:  # a plugin failing to build its store is shown, not raised
        return None, f"{type(exc).__name__}: {exc}"


def now_ms() -> int:
    return int(time.time() * 1000)


def arg_list(name: str) -> list[str]:
    """Repeated and comma-separated query values, in order, without duplicates."""
    out: list[str] = []
    for raw in request.values.getlist(name):
        for part in raw.split(",") if name in ("e", "run") else [raw]:
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


# A redirect's Location stays far below what clients and proxies accept (8-64 KB).
_MAX_REDIRECT, _MAX_SHOWN_ERROR = 2048, 500


def safe_next(default: str) -> str:
    """A same-site redirect target from the form (never another host)."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and len(target) <= _MAX_REDIRECT:
        return target
    return default


def redirect_back(default: str, error: str | None = None):
    """After a form action: back to the page it came from, with the error shown there."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    from flask import redirect

    target = safe_next(default)
    if error:
        if len(error) > _MAX_SHOWN_ERROR:  # it may quote a huge value back: keep the
            error = error[:_MAX_SHOWN_ERROR] + "..."  # Location header small
        parts = urlsplit(target)
        query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("error="))
        query = (query + "&" if query else "") + urlencode({"error": error})
        target = urlunsplit(("", "", parts.path, query, parts.fragment))
    return redirect(target, code=303)
