"""Small URI helpers: local paths <-> file: URIs, joining paths onto URIs."""

from __future__ import annotations

import os
import posixpath
import urllib.parse

# urllib.request costs ~60 ms to import (http.client, email); these two are all we need.
if os.name == "nt":
    from nturl2path import pathname2url as _pathname2url
    from nturl2path import url2pathname as _url2pathname
else:
    _url2pathname, _pathname2url = urllib.parse.unquote, urllib.parse.quote


def is_local_uri(uri: str) -> bool:
    parsed = urllib.parse.urlparse(uri)
    return parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt")


def local_path_from_uri(uri: str) -> str:
    """'file:///a/b' -> '/a/b'; a plain path is returned unchanged."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"Cannot use a non-local file URI: {uri}")
        return _url2pathname(parsed.path)
    return uri


def path_to_local_file_uri(path: str) -> str:
    return "file://" + _pathname2url(os.path.abspath(path))


def append_to_uri_path(uri: str, *paths: str) -> str:
    """Join path segments onto a URI, keeping its scheme, host and query."""
    parts = [p.strip("/") for p in paths if p and p.strip("/")]
    if not parts:
        return uri
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme in ("", "file") and not uri.startswith("file:"):
        return posixpath.join(uri, *parts)
    path = posixpath.join(parsed.path or "/", *parts) if parsed.path else "/" + "/".join(parts)
    if not parsed.netloc and parsed.path.startswith("/") is False and parsed.scheme:
        # 'mlflow-artifacts:/1' style URIs keep a single slash
        path = "/" + path.lstrip("/")
    return urllib.parse.urlunparse(parsed._replace(path=path))


def resolve_store_path(uri: str) -> str:
    """Absolute local path for a file-store URI or plain path."""
    return os.path.abspath(local_path_from_uri(uri))
