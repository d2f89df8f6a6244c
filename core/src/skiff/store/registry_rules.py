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


def validate_source(source: str, allowed_roots: list[str] | None = None,
                    run_artifact_uri: str | None = None) -> None:
    """Refuse model-version sources that could make a server read outside what it owns.

    Accepted: ``runs:/<id>/...``, ``models:/...``, ``mlflow-artifacts:`` URIs, and object-store
    or file URIs that lie under one of ``allowed_roots`` (or under ``run_artifact_uri``).
    Refused: plain local paths, ``file://`` outside the roots, any ``..`` segment, NUL
    bytes, and their percent-encoded forms.
    """
    if not isinstance(source, str) or not source:
        raise _bad("Model version source cannot be empty.")
    decoded = source
    for _ in range(3):
        decoded = unquote(decoded)
    for candidate in (source, decoded):
        if "\x00" in candidate or ".." in re.split(r"[/\\]", candidate):
            raise _bad(f"Invalid model version source: '{source}'. Path traversal ('..') is "
                       "not allowed.")
    scheme = urlparse(source).scheme.lower()
    if scheme in ("runs", "models"):
        return
    if scheme == "mlflow-artifacts":
        return
    roots = [r for r in (allowed_roots or []) if r]
    if run_artifact_uri:
        roots.append(run_artifact_uri)
    if scheme in ("", "file"):
        path = decoded[len("file://"):] if decoded.startswith("file://") else decoded
        for root in roots:
            if urlparse(root).scheme in ("", "file"):
                root_path = root[len("file://"):] if root.startswith("file://") else root
                root_path = root_path.rstrip("/")
                if path == root_path or path.startswith(root_path + "/"):
                    return
        raise _bad(f"Invalid model version source: '{source}'. Local paths outside the "
                   "tracking server's artifact stores are not allowed; use a runs:/ or "
                   "models:/ URI or an artifact location of a run.")
    if roots and not any(source.startswith(r.rstrip("/") + "/") or source == r for r in roots):
        if scheme in ("http", "https"):
            raise _bad(f"Invalid model version source: '{source}'.")
