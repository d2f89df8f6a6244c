"""Custom Python models: :class:`PythonModel`, its context, and the loader named in MLmodel
as ``loader_module: mlflow.pyfunc.model`` (Skiff maps that name to this module)."""

from __future__ import annotations

import bz2
import gzip
import inspect
import logging
import lzma
import os
import shutil

from skiff.errors import SkiffException

_logger = logging.getLogger(__name__)

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
_OPENERS = {None: open, "lzma": lzma.open, "bz2": bz2.open, "bzip2": bz2.open,
            "gzip": gzip.open}
_SUFFIXES = {"lzma": ".xz", "bz2": ".bz2", "bzip2": ".bz2", "gzip": ".gz"}


class PythonModel:
    """Subclass and implement ``predict(context, model_input, params=None)``;
    ``load_context`` runs once when the model is loaded."""

    def load_context(self, context):
        """Load what ``predict`` needs from ``context.artifacts``."""

    def predict(self, context, model_input, params=None):
        raise NotImplementedError("PythonModel subclasses must implement predict")


class PythonModelContext:
    """The artifacts (name -> absolute local path) and model_config a model loads with."""

    def __init__(self, artifacts, model_config):
        self._artifacts = artifacts
        self._model_config = model_config

    @property
    def artifacts(self) -> dict:
        return self._artifacts

    @property
    def model_config(self) -> dict:
        return self._model_config


def save_python_model(path: str, python_model, artifacts=None, compression=None) -> dict:
    """Pickle ``python_model`` and copy ``artifacts`` into the model directory; returns the
    pyfunc flavor keys describing them."""
    import cloudpickle

    from skiff.pyfunc import _pickle

    if not isinstance(python_model, PythonModel) and not callable(
            getattr(python_model, "predict", None)):
        raise SkiffException.invalid_parameter_value(
            "python_model must be a PythonModel instance (an object with a predict method), "
            f"got {type(python_model).__name__}")
    filename = PYTHON_MODEL_FILE + _SUFFIXES.get(compression, "")
    with _OPENERS[compression](os.path.join(path, filename), "wb") as fh:
        _pickle.dump(python_model, fh)
    keys = {"python_model": filename, "cloudpickle_version": cloudpickle.__version__}
    if compression:
        keys["python_model_compression"] = compression
    if artifacts:
        keys["artifacts"] = _copy_artifacts(path, artifacts)
    return keys


def _copy_artifacts(path: str, artifacts: dict) -> dict:
    from skiff.models.saving import is_local_uri
    from skiff.utils.uri import local_path_from_uri

    out = {}
    root = os.path.join(path, ARTIFACTS_DIR)
    os.makedirs(root, exist_ok=True)
    for name, uri in artifacts.items():
        uri = os.fspath(uri)
        dest_dir = os.path.join(root, name)
        if is_local_uri(uri):
            src = local_path_from_uri(uri)
            if os.path.isdir(src):
                shutil.copytree(src, dest_dir)
                local = dest_dir
            else:
                os.makedirs(dest_dir, exist_ok=True)
                local = shutil.copy2(src, dest_dir)
        else:
            from skiff.artifacts.resolve import get_artifact_repository, split_artifact_uri
            parent, leaf = split_artifact_uri(uri)
            os.makedirs(dest_dir, exist_ok=True)
            local = get_artifact_repository(parent).download_artifacts(leaf, dest_dir)
        rel = os.path.relpath(local, path).replace(os.sep, "/")
        out[name] = {"path": rel, "uri": uri}
    return out


def _accepts(func, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _takes_context(func) -> bool:
    """MLflow 3 allows ``predict(model_input, params=None)`` without a context."""
    try:
        params = [p for p in inspect.signature(func).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return True
    names = [p.name for p in params]
    if "context" in names:
        return True
    return len([n for n in names if n != "params"]) >= 2


class _PythonModelWrapper:
    """What ``_load_pyfunc`` returns: ``predict(data, params)`` over a PythonModel."""

    def __init__(self, python_model, context):
        self.python_model = python_model
        self.context = context
        self._with_context = _takes_context(python_model.predict)
        self._with_params = _accepts(python_model.predict, "params")

    def predict(self, model_input, params=None):
        kwargs = {"params": params} if self._with_params else {}
        if self._with_context:
            return self.python_model.predict(self.context, model_input, **kwargs)
        return self.python_model.predict(model_input, **kwargs)

    def predict_stream(self, model_input, params=None):
        func = getattr(self.python_model, "predict_stream", None)
        if func is None:
            raise SkiffException.invalid_parameter_value("This model does not stream")
        kwargs = {"params": params} if _accepts(func, "params") else {}
        if _takes_context(func):
            return func(self.context, model_input, **kwargs)
        return func(model_input, **kwargs)

    def unwrap_python_model(self):
        return self.python_model


def _load_pyfunc(model_path: str, model_config: dict | None = None):
    """Load a custom Python model directory (MLmodel says ``python_model: ...``)."""
    from skiff.models.model import Model
    from skiff.pyfunc import _pickle

    conf = Model.load(model_path).get_flavor("python_function")
    filename = conf.get("python_model")
    if filename is None:
        raise SkiffException("The MLmodel file names no python_model to load", "INVALID_STATE")
    full = os.path.join(model_path, filename)
    compression = conf.get("python_model_compression")
    _logger.warning("Unpickling the custom model %s with cloudpickle; only load models from "
                    "sources you trust", full)
    _check_cloudpickle_version(conf.get("cloudpickle_version"))
    with _OPENERS.get(compression, open)(full, "rb") as fh:
        python_model = _pickle.load(fh)
    artifacts = {name: os.path.join(model_path, info["path"])
                 for name, info in (conf.get("artifacts") or {}).items()}
    config = dict(conf.get("config") or {})
    config.update(model_config or {})
    context = PythonModelContext(artifacts, config)
    python_model.load_context(context)
    return _PythonModelWrapper(python_model, context)


def _check_cloudpickle_version(saved: str | None) -> None:
    import cloudpickle

    if saved and saved != cloudpickle.__version__:
        _logger.warning("The model was pickled with cloudpickle %s, this is cloudpickle %s; "
                        "they may be incompatible", saved, cloudpickle.__version__)
