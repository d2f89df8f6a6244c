"""State dicts (model weights, checkpoints) as plain run artifacts: ``state_dict.pth`` in a
directory, as MLflow's ``save_state_dict`` / ``log_state_dict`` write them. Loading uses
``torch.load(weights_only=True)`` unless told otherwise, so it runs no code from the file."""

from __future__ import annotations

import logging
import os
import tempfile

from skiff.errors import SkiffException

_logger = logging.getLogger("skiff.pytorch")
STATE_DICT_FILE = "state_dict.pth"


def save_state_dict(state_dict, path, **kwargs) -> None:
    """Write ``state_dict`` to ``<path>/state_dict.pth`` (``kwargs`` go to torch.save)."""
    import torch

    if not isinstance(state_dict, dict):
        raise SkiffException.invalid_parameter_value(
            f"state_dict must be a dict, got {type(state_dict).__name__}: pass "
            "model.state_dict(), not the model")
    path = os.path.abspath(os.fspath(path))
    os.makedirs(path, exist_ok=True)
    torch.save(state_dict, os.path.join(path, STATE_DICT_FILE), **kwargs)


def log_state_dict(state_dict, artifact_path, **kwargs) -> None:
    """Log ``state_dict`` under ``artifact_path`` of the active run (started if none)."""
    from skiff.tracking import fluent

    with tempfile.TemporaryDirectory(prefix="skiff-state-dict-") as tmp:
        save_state_dict(state_dict, tmp, **kwargs)
        fluent.log_artifacts(tmp, artifact_path)


def load_state_dict(state_dict_uri, **kwargs):
    """The state dict saved at ``state_dict_uri`` (a local directory, ``runs:/`` or any
    artifact URI of the directory holding ``state_dict.pth``)."""
    import torch

    from skiff.models.saving import is_local_uri

    uri = os.fspath(state_dict_uri)
    if is_local_uri(uri):
        from skiff.utils.uri import local_path_from_uri

        local = local_path_from_uri(uri)
    else:
        from skiff.artifacts.download import download_artifacts

        local = download_artifacts(artifact_uri=uri)
    path = local if os.path.isfile(local) else os.path.join(local, STATE_DICT_FILE)
    if not os.path.exists(path):
        raise SkiffException(f"No {STATE_DICT_FILE} at '{state_dict_uri}'",
                             "RESOURCE_DOES_NOT_EXIST")
    kwargs.setdefault("weights_only", True)
    if not kwargs["weights_only"]:
        _logger.warning("Unpickling the state dict %s with weights_only=False; only load "
                        "files from sources you trust", path)
    return torch.load(path, **kwargs)
