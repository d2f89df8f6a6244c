"""``get_model_dependencies``: where a model's pip requirements are, to install them."""

from __future__ import annotations

import os

from skiff.errors import SkiffException


def get_model_dependencies(model_uri, format: str = "pip") -> str:  # noqa: A002
    """The local path of the model's ``requirements.txt`` (``format="pip"``) or
    ``conda.yaml`` (``format="conda"``)."""
    from skiff.models.saving import download_model

    if format not in ("pip", "conda"):
        raise SkiffException.invalid_parameter_value(
            f"Unknown dependency format {format!r}: expected 'pip' or 'conda'")
    local = download_model(model_uri)
    name = "requirements.txt" if format == "pip" else "conda.yaml"
    path = os.path.join(local, name)
    if not os.path.exists(path):
        raise SkiffException(f"The model at '{model_uri}' has no {name}",
                             "RESOURCE_DOES_NOT_EXIST")
    return path
