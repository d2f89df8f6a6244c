"""``load_model`` and :class:`PyFuncModel`: any model with a ``python_function`` flavor,
whichever tool saved it, behind one ``predict(data, params=None)`` with schema enforcement.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys

from skiff.errors import SkiffException

_logger = logging.getLogger(__name__)
FLAVOR_NAME = "python_function"
# Loader modules named in MLmodel files that Skiff implements itself.
_CORE_LOADERS = {
    "mlflow.pyfunc.model": "skiff.pyfunc.model",
    "skiff.pyfunc.model": "skiff.pyfunc.model",
}


def resolve_loader_module(name: str):
    """The module implementing ``_load_pyfunc`` for a ``loader_module`` value:
    ``mlflow.<flavor>`` and ``skiff.<flavor>`` resolve through the flavor hook (so
    ``mlflow.sklearn`` loads with skiff-flavor-sklearn); anything else is imported."""
    if name in _CORE_LOADERS:
        return importlib.import_module(_CORE_LOADERS[name])
    head, _, flavor = name.partition(".")
    if head in ("mlflow", "skiff") and flavor and "." not in flavor:
        from skiff.flavors import load_flavor_module

        module = load_flavor_module(flavor)
        if module is not None:
            return module
        if head == "mlflow":
            raise SkiffException(
                f"This model is loaded by '{name}', and no Skiff plugin provides the "
                f"'{flavor}' flavor. Install the plugin for it (skiff-flavor-{flavor}).",
                "INVALID_PARAMETER_VALUE")
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SkiffException(f"Cannot import the model's loader module '{name}': {exc}",
                             "INVALID_PARAMETER_VALUE") from exc


def _call_loader(module, data_path: str, model_config):
    loader = getattr(module, "_load_pyfunc", None)
    if loader is None:
        raise SkiffException(f"Loader module '{module.__name__}' has no _load_pyfunc",
                             "INVALID_PARAMETER_VALUE")
    if model_config:
        params = inspect.signature(loader).parameters
        if "model_config" in params or len(params) > 1:
            return loader(data_path, model_config)
        _logger.warning("The loader %s takes no model_config; it is ignored", module.__name__)
    return loader(data_path)


def _accepts_params(func) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    # Only an explicit ``params`` argument: sklearn's **params are fit/routing params.
    param = parameters.get("params")
    return param is not None and param.kind != param.VAR_KEYWORD


class PyFuncModel:
    """A loaded model: ``predict(data, params=None)`` enforces the signature, then calls
    the flavor's implementation."""

    def __init__(self, model_meta, model_impl, predict_fn: str = "predict", model_path=None):
        self._model_meta = model_meta
        self._model_impl = model_impl
        self._predict_fn = getattr(model_impl, predict_fn)
        self._passes_params = _accepts_params(self._predict_fn)
        self._model_path = model_path

    @property
    def metadata(self):
        return self._model_meta

    @property
    def model_config(self) -> dict:
        conf = self._model_meta.flavors.get(FLAVOR_NAME, {})
        return conf.get("config") or {}

    @property
    def loader_module(self) -> str | None:
        return self._model_meta.flavors.get(FLAVOR_NAME, {}).get("loader_module")

    @property
    def model_id(self):
        return self._model_meta.model_id

    def input_schema(self):
        return self._model_meta.get_input_schema()

    def predict(self, data, params: dict | None = None):
        from skiff.pyfunc.enforce import enforce_params, validate_schema, validate_type_hinted

        signature = self._model_meta.signature
        if signature is not None:
            if signature.inputs is not None and self._model_meta.is_signature_from_type_hint:
                data = validate_type_hinted(data, signature.inputs)
            elif signature.inputs is not None:
                data = validate_schema(data, signature.inputs)
            params = enforce_params(params, signature.params)
        else:
            params = enforce_params(params, None)
        if self._passes_params:
            return self._predict_fn(data, params=params)
        if params:
            _logger.warning("The model's predict takes no params; %s ignored", sorted(params))
        return self._predict_fn(data)

    def predict_stream(self, data, params: dict | None = None):
        func = getattr(self._model_impl, "predict_stream", None)
        if func is None:
            raise SkiffException.invalid_parameter_value("This model does not support "
                                                         "predict_stream")
        return func(data, params=params) if _accepts_params(func) else func(data)

    def unwrap_python_model(self):
        unwrap = getattr(self._model_impl, "unwrap_python_model", None)
        if unwrap is None:
            raise SkiffException.invalid_parameter_value(
                "unwrap_python_model is only available for custom PythonModel models")
        return unwrap()

    def get_raw_model(self):
        raw = getattr(self._model_impl, "get_raw_model", None)
        return raw() if raw is not None else self._model_impl

    def __repr__(self):
        lines = ["skiff.pyfunc.loaded_model:"]
        if self._model_meta.model_id:
            lines.append(f"  model_id: {self._model_meta.model_id}")
        if self._model_meta.run_id:
            lines.append(f"  run_id: {self._model_meta.run_id}")
        lines.append(f"  flavor: {self.loader_module}")
        return "\n".join(lines)


def _add_code_to_path(local_path: str, conf: dict) -> None:
    code = conf.get("code")
    if not code:
        return
    code_dir = os.path.join(local_path, code)
    if os.path.isdir(code_dir) and code_dir not in sys.path:
        sys.path.insert(0, code_dir)


def load_model(model_uri, suppress_warnings: bool = False, dst_path=None,
               model_config: dict | None = None) -> PyFuncModel:
    """Load any model with a ``python_function`` flavor from a local path, ``runs:/``,
    ``models:/`` or any artifact URI."""
    from skiff.models.model import Model
    from skiff.models.saving import download_model

    local_path = download_model(model_uri, dst_path)
    model_meta = Model.load(local_path)
    conf = model_meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise SkiffException(
            f'Model does not have the "{FLAVOR_NAME}" flavor (it has: '
            f"{sorted(model_meta.flavors)}); load it with its own flavor's load_model",
            "RESOURCE_DOES_NOT_EXIST")
    if "loader_module" not in conf:
        raise SkiffException(f"The {FLAVOR_NAME} flavor of '{model_uri}' names no "
                             "loader_module", "INVALID_PARAMETER_VALUE")
    if not suppress_warnings:
        _warn_python_version(conf.get("python_version"))
    _add_code_to_path(local_path, conf)
    data_path = os.path.join(local_path, conf["data"]) if conf.get("data") else local_path
    module = resolve_loader_module(conf["loader_module"])
    config = dict(conf.get("config") or {})
    config.update(model_config or {})
    impl = _call_loader(module, data_path, config)
    predict_fn = conf.get("predict_fn", "predict")
    if not hasattr(impl, predict_fn):
        raise SkiffException.invalid_parameter_value(
            f"The model has no '{predict_fn}' method (MLmodel predict_fn)")
    return PyFuncModel(model_meta, impl, predict_fn, local_path)


def _warn_python_version(saved: str | None) -> None:
    if not saved:
        return
    import platform

    current = platform.python_version()
    if saved.split(".")[:2] != current.split(".")[:2]:
        _logger.warning("The model was saved with Python %s; this is Python %s, which may be "
                        "incompatible", saved, current)
