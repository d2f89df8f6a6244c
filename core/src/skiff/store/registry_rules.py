"""Rules every registry store applies: model names, aliases, tags, and which model-version
sources are allowed (MLflow's registry CVEs are the test list)."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlparse

from skiff.errors import SkiffException
from skiff.validation import (
    MAX_MODEL_REGISTRY_TAG_KEY_LENGTH,
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    validate_key_name,
)

_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


def _bad(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


def validate_model_name(name) -> None:
    if not isinstance(name, str) or not name.strip():
        raise _bad("Registered model name cannot be empty.")
    if "/" in name or ":" in name:
        raise _bad(f"Invalid model name: '{name}'. Names cannot contain '/' or ':'.")
    if "\x00" in name:  # no store can keep it: PostgreSQL text and file names refuse NUL
        raise _bad(f"Invalid model name: {name!r}. Names cannot contain NUL characters.")
    if posixpath.normpath(name) != name or name in (".", ".."):
        raise _bad(f"Invalid model name: '{name}'.")


def validate_version(version) -> int:
    try:
        number = int(str(version))
    except (TypeError, ValueError):
        raise _bad(f"Model version must be an integer, got {version!r}") from None
    if number < 1:
        raise _bad(f"Model version must be a positive integer, got {version!r}")
    return number


def validate_alias(alias) -> None:
    if not isinstance(alias, str) or not alias:
        raise _bad("Alias name cannot be empty.")
    if len(alias) > 255 or not _ALIAS.match(alias):
        raise _bad(f"Invalid alias name: '{alias}'. Aliases may contain only letters, digits, "
                   "'_' and '-', up to 255 characters.")
    if alias.lower() == "latest" or _VERSION_ALIAS.match(alias):
        raise _bad(f"Invalid alias name: '{alias}'. 'latest' and 'v<number>' are reserved.")


def validate_registry_tag(key, value) -> None:
    validate_key_name(key, "tag")
    if len(key) > MAX_MODEL_REGISTRY_TAG_KEY_LENGTH:
        raise _bad(f"Tag key exceeds {MAX_MODEL_REGISTRY_TAG_KEY_LENGTH} characters")
    if value is not None and len(str(value)) > MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH:
        raise _bad(f"Tag value exceeds {MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH} characters")


def _decoded(text: str) -> str:
    """Percent-decoding repeated until nothing changes (bounded): double- and triple-encoded
    forms are judged like the plain one."""
    for _ in range(8):
        once = unquote(text)
        if once == text:
            break
        text = once
    return text


def _uri_parts(uri: str) -> tuple[str, str, list[str]]:
    parts = urlparse(uri)
    segments = [_decoded(p) for p in parts.path.split("/") if p and p != "."]
    return parts.scheme.lower(), parts.netloc.lower(), segments


def _local_path(uri: str) -> str | None:
    """The absolute, symlink-resolved path of a plain path or ``file:`` URI (None when a
    ``file:`` URI names another host)."""
    import os

    parts = urlparse(uri)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        path = _decoded(parts.path)
    else:
        path = _decoded(uri)
    return os.path.realpath(os.path.expanduser(path) if path.startswith("~") else path)


def _is_local(uri: str) -> bool:
    scheme = urlparse(uri).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and uri[1:2] == ":")


def _within(source: str, root: str) -> bool:
    """True when ``source`` is ``root`` or lies below it (segment-wise, never by prefix
    text: ``/data/models2`` is not inside ``/data/models``)."""
    if _is_local(source) or _is_local(root):
        if not (_is_local(source) and _is_local(root)):
            return False
        path, root_path = _local_path(source), _local_path(root)
        if path is None or root_path is None:
            return False
        return path == root_path or path.startswith(root_path.rstrip("/") + "/")
    scheme, netloc, segments = _uri_parts(source)
    root_scheme, root_netloc, root_segments = _uri_parts(root)
    return (scheme, netloc) == (root_scheme, root_netloc) and (
        segments[:len(root_segments)] == root_segments)


def _is_proxied_http(source: str) -> bool:
    scheme, _, segments = _uri_parts(source)
    marker = ["api", "2.0", "mlflow-artifacts", "artifacts"]
    return scheme in ("http", "https") and any(
        segments[i:i + len(marker)] == marker for i in range(len(segments)))


def validate_source(source: str, allowed_roots: list[str] | None = None,
                    run_artifact_uri: str | None = None) -> None:
    """Refuse model-version sources that could make a server read outside what it owns.

    Always accepted: ``runs:/<id>/...`` and ``models:/...`` (resolved by the server itself),
    ``mlflow-artifacts:`` URIs and this API's proxy URLs (confined to the artifacts
    destination). A plain path or ``file:`` URI must lie under one of ``allowed_roots`` or
    ``run_artifact_uri`` (symlinks resolved). Any other URI (s3://, gs://, http://...) must
    lie under one of them when roots are given; a store that knows no roots passes none.
    Refused everywhere: ``..`` segments, NUL bytes and their percent-encoded forms, and
    ``runs://host``/``models://host`` forms.
    """
    if not isinstance(source, str) or not source:
        raise _bad("Model version source cannot be empty.")
    decoded = _decoded(source)
    for candidate in (source, decoded):
        if "\x00" in candidate or ".." in re.split(r"[/\\]", candidate):
            raise _bad(f"Invalid model version source: '{source}'. Path traversal ('..') is "
                       "not allowed.")
    parts = urlparse(source)
    scheme = parts.scheme.lower()
    if scheme in ("runs", "models"):
        if parts.netloc:
            raise _bad(f"Invalid model version source: '{source}'. {scheme}:/ sources must "
                       "name this server's runs and models (no host part).")
        return
    if scheme == "mlflow-artifacts" or _is_proxied_http(source):
        return
    roots = [r for r in (allowed_roots or []) if r]
    if run_artifact_uri:
        roots.append(run_artifact_uri)
    if _is_local(source):
        if any(_within(source, root) for root in roots):
            return
        raise _bad(f"Invalid model version source: '{source}'. Local paths outside the "
                   "tracking server's artifact stores are not allowed; use a runs:/ or "
                   "models:/ URI or an artifact location of a run.")
    if (allowed_roots is not None or run_artifact_uri) and not any(
            _within(source, root) for root in roots):
        raise _bad(f"Invalid model version source: '{source}'. It is not inside the tracking "
                   "server's artifact stores; use a runs:/ or models:/ URI or an artifact "
                   "location of a run or logged model.")
