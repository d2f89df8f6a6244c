"""Helpers every target needs: a model URI as a local directory, and its MLmodel."""

from __future__ import annotations

import os

import yaml

from skiff.errors import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, SkiffException

PYFUNC_FLAVOR = "python_function"


def local_model_dir(model_uri: str, dst_path: str | None = None) -> str:
    """A local directory holding the model at ``model_uri`` (``runs:/``, ``models:/``,
    ``s3://``...). Local paths are used in place."""
    from skiff.registry import uri_scheme

    model_uri = os.fspath(model_uri)
    if uri_scheme(model_uri) in ("", "file"):
        from skiff.utils.uri import local_path_from_uri

        local = os.path.abspath(local_path_from_uri(model_uri))
        if not os.path.isdir(local):
            raise SkiffException(
                f"Model {model_uri!r} does not exist: no directory at {local}",
                RESOURCE_DOES_NOT_EXIST)
        return local
    from skiff.artifacts.download import download_artifacts

    return download_artifacts(artifact_uri=model_uri, dst_path=dst_path)


def read_mlmodel(model_dir: str, model_uri: str | None = None) -> dict:
    path = os.path.join(model_dir, "MLmodel")
    if not os.path.isfile(path):
        raise SkiffException(
            f"{model_uri or model_dir!r} is not a model: it has no MLmodel file. Pass the URI "
            "of a saved or logged model", INVALID_PARAMETER_VALUE)
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def require_flavor(mlmodel: dict, flavor: str | None, model_uri: str,
                   supported=(PYFUNC_FLAVOR,)) -> str:
    """The flavor to deploy: ``flavor`` (default python_function) if the model has it and
    the target supports it, else a one-line error."""
    flavor = flavor or PYFUNC_FLAVOR
    if flavor not in supported:
        raise SkiffException.invalid_parameter_value(
            f"Flavor {flavor!r} cannot be deployed to this target; supported: "
            f"{', '.join(supported)}")
    flavors = mlmodel.get("flavors") or {}
    if flavor not in flavors:
        raise SkiffException.invalid_parameter_value(
            f"Model {model_uri!r} has no {flavor} flavor (it has: "
            f"{', '.join(sorted(flavors)) or 'none'}): save it with a flavor that adds "
            f"python_function (e.g. skiff.pyfunc.save_model or skiff.sklearn.save_model)")
    return flavor
