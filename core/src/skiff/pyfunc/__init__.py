"""The ``python_function`` flavor: one interface over every model, and custom Python models.

``load_model(uri).predict(data, params=None)`` works for any model whose MLmodel has a
``python_function`` entry, saved by Skiff or by MLflow. Names load on first use, so
``import skiff.pyfunc`` stays light.
"""

from __future__ import annotations

import importlib

FLAVOR_NAME = "python_function"

_LAZY = {
    "PythonModel": "skiff.pyfunc.model",
    "PythonModelContext": "skiff.pyfunc.model",
    "save_model": "skiff.pyfunc.saving",
    "log_model": "skiff.pyfunc.saving",
    "add_to_model": "skiff.pyfunc.saving",
    "load_model": "skiff.pyfunc.loading",
    "PyFuncModel": "skiff.pyfunc.loading",
    "resolve_loader_module": "skiff.pyfunc.loading",
    "validate_schema": "skiff.pyfunc.enforce",
    "get_model_dependencies": "skiff.pyfunc.dependencies",
    "spark_udf": "skiff.pyfunc.spark",
}

__all__ = sorted([*_LAZY, "FLAVOR_NAME"])


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skiff.pyfunc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
