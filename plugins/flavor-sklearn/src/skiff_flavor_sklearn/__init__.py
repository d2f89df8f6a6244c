"""``skiff.sklearn``: scikit-learn models in MLflow's ``sklearn`` flavor format.

Importing this package imports no scikit-learn; the functions load it when called.
"""

from __future__ import annotations

from skiff_flavor_sklearn.flavor import (
    FLAVOR_NAME,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_SKOPS,
    SUPPORTED_SERIALIZATION_FORMATS,
    _load_pyfunc,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)


def autolog(*args, **kwargs):
    """Log params, training metrics, the model and an input example on every ``fit``."""
    from skiff_flavor_sklearn.autologging import autolog as _autolog

    return _autolog(*args, **kwargs)


__all__ = [
    "FLAVOR_NAME", "SERIALIZATION_FORMAT_CLOUDPICKLE", "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS", "SUPPORTED_SERIALIZATION_FORMATS", "_load_pyfunc", "autolog",
    "get_default_pip_requirements", "load_model", "log_model", "save_model",
]
