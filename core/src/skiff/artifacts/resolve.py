"""From an artifact URI to a repository: plugins by scheme, plus ``runs:/`` and ``models:/``.
"""

from __future__ import annotations

import posixpath

from skiff.errors import SkiffException
from skiff.plugins import get_registries
from skiff.registry import uri_scheme
from skiff.utils.uri import append_to_uri_path


def get_artifact_repository(artifact_uri: str, tracking_uri: str | None = None,
                            registry_uri: str | None = None):
    """The repository for a concrete URI (file:, s3://, mlflow-artifacts:, ...)."""
    scheme = uri_scheme(artifact_uri)
    if scheme in ("runs", "models"):
        artifact_uri = resolve_artifact_uri(artifact_uri, tracking_uri, registry_uri)
        scheme = uri_scheme(artifact_uri)
    factory = get_registries().artifact_repositories.get(scheme, uri=artifact_uri)
    return factory(artifact_uri, tracking_uri=tracking_uri, registry_uri=registry_uri)


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """'runs:/<run_id>/path/in/run' -> (run_id, 'path/in/run')."""
    if not uri.startswith("runs:/"):
        raise SkiffException.invalid_parameter_value(f"Not a runs:/ URI: {uri!r}")
    rest = uri[len("runs:/"):].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise SkiffException.invalid_parameter_value(
            f"Invalid runs:/ URI {uri!r}: expected runs:/<run_id>/<path>"
        )
    return run_id, path.strip("/")


def resolve_artifact_uri(uri: str, tracking_uri: str | None = None,
                         registry_uri: str | None = None) -> str:
    """Turn ``runs:/`` (and ``models:/`` when a registry plugin offers it) into the
    concrete artifact URI they point at."""
    if uri.startswith("runs:/"):
        from skiff.tracking._stores import get_tracking_store

        run_id, path = parse_runs_uri(uri)
        run = get_tracking_store(tracking_uri).get_run(run_id)
        return append_to_uri_path(run.info.artifact_uri, path) if path else run.info.artifact_uri
    if uri.startswith("models:/"):
        from skiff.models_uri import resolve_models_uri

        return resolve_models_uri(uri, tracking_uri, registry_uri)
    return uri


def split_artifact_uri(uri: str) -> tuple[str, str]:
    """'s3://b/x/y.txt' -> ('s3://b/x', 'y.txt')."""
    head, tail = posixpath.split(uri.rstrip("/"))
    return head, tail
