"""cloudpickle for ``python_model.pkl`` that both Skiff and MLflow can read.

A custom model's class is pickled by value with a reference to its base class. MLflow's
pickles name ``mlflow.pyfunc.model.PythonModel``; Skiff's would name Skiff's class, which an
MLflow environment cannot import. So:

* writing, Skiff's ``PythonModel``/``PythonModelContext`` are recorded as "attribute X of
  module mlflow.pyfunc.model" (through ``importlib.import_module``), which MLflow resolves
  to its own classes;
* reading, that module name (and any other ``mlflow.pyfunc`` base-class reference) is
  mapped back to Skiff's classes, and references to MLflow internals that are not installed
  become inert placeholders (MLflow wraps ``predict`` in a validation closure; Skiff unwraps
  it and validates with its own schema enforcement).
"""

from __future__ import annotations

import importlib
import pickle

_MLFLOW_MODEL_MODULE = "mlflow.pyfunc.model"
_BASE_NAMES = ("PythonModel", "PythonModelContext")


class _ModuleRef:
    """Pickles as ``importlib.import_module(name)``."""

    def __init__(self, name: str):
        self.name = name


def dump(obj, fh) -> None:
    import cloudpickle

    from skiff.pyfunc import model as skiff_model

    mapped = {id(getattr(skiff_model, n)): n for n in _BASE_NAMES}

    class _Pickler(cloudpickle.Pickler):
        def reducer_override(self, value):
            if isinstance(value, type) and id(value) in mapped:
                return getattr, (_ModuleRef(_MLFLOW_MODEL_MODULE), mapped[id(value)])
            if isinstance(value, _ModuleRef):
                return importlib.import_module, (value.name,)
            return super().reducer_override(value)

    _Pickler(fh, protocol=pickle.DEFAULT_PROTOCOL).dump(obj)


def _mlflow_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):
        return False


def _placeholder(module: str, name: str):
    """An inert stand-in for an MLflow object this environment cannot import."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{module}.{name} is part of MLflow, which is not installed")

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    return type(name, (), {"__module__": module, "__init__": __init__, "__new__": __new__,
                           "__call__": __call__, "__setstate__": lambda s, st: None})


def _map_module(name: str):
    if name in (_MLFLOW_MODEL_MODULE, "mlflow.pyfunc"):
        from skiff.pyfunc import model as skiff_model

        return skiff_model
    return importlib.import_module(name)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module in (_MLFLOW_MODEL_MODULE, "mlflow.pyfunc") and name in _BASE_NAMES:
            from skiff.pyfunc import model as skiff_model

            return getattr(skiff_model, name)
        if module == "importlib" and name == "import_module":
            return _map_module
        if (module == "mlflow" or module.startswith("mlflow.")) and not _mlflow_installed():
            return _placeholder(module, name)
        return super().find_class(module, name)


def load(fh):
    """Unpickle a python_model.pkl written by Skiff or by MLflow."""
    import cloudpickle  # noqa: F401  (cloudpickle's helpers must be importable)

    obj = _Unpickler(fh).load()
    _unwrap_mlflow_predict(type(obj))
    return obj


def _unwrap_mlflow_predict(cls) -> None:
    """MLflow replaces a subclass's ``predict`` by a type-hint validation wrapper; keep the
    user's own function (``__wrapped__``) instead."""
    for attr in ("predict", "predict_stream"):
        func = cls.__dict__.get(attr)
        inner = getattr(func, "__wrapped__", None)
        if inner is not None and getattr(func, "_is_pyfunc", False):
            setattr(cls, attr, inner)
