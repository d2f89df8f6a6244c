"""``skiff.artifacts.download_artifacts`` and friends (MLflow's ``mlflow.artifacts``)."""

from __future__ import annotations

import json
import os
import tempfile

from skiff.errors import SkiffException


def download_artifacts(artifact_uri=None, run_id=None, artifact_path=None, dst_path=None,
                       tracking_uri=None, registry_uri=None) -> str:
    """Download a file or directory from a run (``run_id`` + ``artifact_path``) or from any
    artifact URI; returns the local path."""
    from skiff.artifacts.resolve import get_artifact_repository, resolve_artifact_uri

    if (run_id is None) == (artifact_uri is None):
        raise SkiffException.invalid_parameter_value(
            "Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise SkiffException.invalid_parameter_value(
            "`artifact_path` cannot be given with `artifact_uri`")
    if run_id is not None:
        artifact_uri = f"runs:/{run_id}/{artifact_path or ''}".rstrip("/")
        if artifact_uri.count("/") == 1:
            artifact_uri += "/"
    if dst_path is not None:
        os.makedirs(dst_path, exist_ok=True)
    concrete = resolve_artifact_uri(artifact_uri, tracking_uri, registry_uri)
    # Download the last path segment from a repository rooted at its parent.
    parent, _, name = concrete.rstrip("/").rpartition("/")
    repo = get_artifact_repository(parent or concrete, tracking_uri, registry_uri)
    if not name or concrete.endswith(":") or concrete.endswith(":/"):
        repo = get_artifact_repository(concrete, tracking_uri, registry_uri)
        return repo.download_artifacts("", dst_path or tempfile.mkdtemp())
    return repo.download_artifacts(name, dst_path or tempfile.mkdtemp())


def list_artifacts(artifact_uri=None, run_id=None, artifact_path=None, tracking_uri=None):
    from skiff.artifacts.resolve import get_artifact_repository

    if run_id is not None:
        artifact_uri = f"runs:/{run_id}/"
    repo = get_artifact_repository(artifact_uri, tracking_uri)
    return repo.list_artifacts(artifact_path)


def load_text(artifact_uri: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        with open(download_artifacts(artifact_uri=artifact_uri, dst_path=tmp),
                  encoding="utf-8") as f:
            return f.read()


def load_dict(artifact_uri: str) -> dict:
    text = load_text(artifact_uri)
    if artifact_uri.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(text)
    try:
        return json.loads(text)
    except ValueError:
        raise SkiffException.invalid_parameter_value(
            f"Artifact {artifact_uri!r} is not valid JSON") from None
