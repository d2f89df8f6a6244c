"""``skiff.pytorch``: PyTorch models in MLflow's ``pytorch`` flavor format.

Importing this package imports no torch; the functions load it when called.
"""

from __future__ import annotations

from skiff_flavor_pytorch.flavor import (
    FLAVOR_NAME,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_PT2,
    _load_pyfunc,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)
from skiff_flavor_pytorch.state_dict import load_state_dict, log_state_dict, save_state_dict


def autolog(*args, **kwargs):
    """Log params, per-epoch metrics and the model of every :func:`train` call (and of
    PyTorch Lightning's ``Trainer.fit`` when Lightning is installed)."""
    from skiff_flavor_pytorch.autologging import autolog as _autolog

    return _autolog(*args, **kwargs)


def train(*args, **kwargs):
    """A plain training loop; see :func:`skiff_flavor_pytorch.training.train`."""
    from skiff_flavor_pytorch.training import train as _train

    return _train(*args, **kwargs)


__all__ = [
    "FLAVOR_NAME", "SERIALIZATION_FORMAT_PICKLE", "SERIALIZATION_FORMAT_PT2", "_load_pyfunc",
    "autolog", "get_default_pip_requirements", "load_model", "load_state_dict", "log_model",
    "log_state_dict", "save_model", "save_state_dict", "train",
]
