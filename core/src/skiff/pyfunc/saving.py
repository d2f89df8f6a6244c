"""``save_model`` / ``log_model`` for custom Python models, and ``add_to_model``, which every
flavor uses to add its ``python_function`` entry to MLmodel."""

from __future__ import annotations

import os
import platform

from skiff.errors import SkiffException

FLAVOR_NAME = "python_function"
MAIN = "loader_module"
CODE = "code"
DATA = "data"
ENV = "env"
PY_VERSION = "python_version"
MODEL_CONFIG = "config"


def add_to_model(model, loader_module, data=None, code=None, conda_env="conda.yaml",
                 python_env="python_env.yaml", model_config=None, **kwargs):
    """Add (or replace) the ``python_function`` flavor entry of ``model``."""
    params = dict(kwargs)
    params[MAIN] = loader_module
    params[PY_VERSION] = platform.python_version()
    if code:
        params[CODE] = code
    if data:
        params[DATA] = data
    params[ENV] = {"conda": conda_env, "virtualenv": python_env}
    if model_config:
        params[MODEL_CONFIG] = model_config
    return model.add_flavor(FLAVOR_NAME, **params)


def _default_requirements(python_model) -> list[str]:
    from skiff.models.environment import (
        model_class_modules,
        pinned,
        requirements_for_modules,
    )

    reqs = [pinned("cloudpickle")]
    for req in requirements_for_modules(model_class_modules(python_model)):
        if req not in reqs:
            reqs.append(req)
    return reqs


def save_model(path, loader_module=None, data_path=None, code_paths=None, conda_env=None,
               mlflow_model=None, python_model=None, artifacts=None, signature=None,
               input_example=None, pip_requirements=None, extra_pip_requirements=None,
               metadata=None, model_config=None, compression=None, infer_code_paths=False,
               **kwargs):
    """Save a custom model: either ``python_model`` (a :class:`PythonModel`, pickled with
    cloudpickle, plus ``artifacts``) or ``loader_module`` + ``data_path`` (a module whose
    ``_load_pyfunc(data_path)`` builds the model)."""
    from skiff.models.model import Model
    from skiff.models.saving import copy_code_paths, finish_save, prepare_model_dir

    if (python_model is None) == (loader_module is None):
        raise SkiffException.invalid_parameter_value(
            "Give either python_model (with optional artifacts) or loader_module (with "
            "optional data_path), not both and not neither")
    if loader_module is not None and artifacts:
        raise SkiffException.invalid_parameter_value(
            "artifacts can only be given with python_model")
    unknown = set(kwargs) - {"streamable"}
    if unknown:
        raise SkiffException.invalid_parameter_value(
            f"Unexpected arguments to save_model: {sorted(unknown)}")
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(path, code_paths)
    extra = {}
    if python_model is not None:
        from skiff.pyfunc.model import _PythonModelWrapper, save_python_model

        extra = save_python_model(path, python_model, artifacts, compression)
        add_to_model(mlflow_model, "mlflow.pyfunc.model", code=code,
                     model_config=model_config, **extra)
        requirements = _default_requirements(python_model)
        if signature is None:
            from skiff.pyfunc.type_hints import signature_from_type_hints

            signature = signature_from_type_hints(python_model)
            if signature is not None:
                mlflow_model.is_signature_from_type_hint = True
        wrapper = _PythonModelWrapper(python_model, _context_for(path, extra, model_config))
        predict_fn = _example_predictor(python_model, wrapper)
    else:
        data = None
        if data_path is not None:
            import shutil

            src = os.fspath(data_path)
            dest = os.path.join(path, os.path.basename(os.path.normpath(src)))
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, dest)
            data = os.path.basename(dest)
        add_to_model(mlflow_model, loader_module, data=data, code=code,
                     model_config=model_config)
        from skiff.models.environment import requirements_for_modules

        requirements = requirements_for_modules([loader_module])
        predict_fn = None
    if kwargs.get("streamable") is not None:
        mlflow_model.flavors[FLAVOR_NAME]["streamable"] = bool(kwargs["streamable"])
    return finish_save(path, mlflow_model, signature=signature, input_example=input_example,
                       predict_fn=predict_fn, default_requirements=requirements,
                       pip_requirements=pip_requirements,
                       extra_pip_requirements=extra_pip_requirements, conda_env=conda_env,
                       metadata=metadata)


def _context_for(path: str, extra: dict, model_config):
    from skiff.pyfunc.model import PythonModelContext

    artifacts = {name: os.path.join(path, info["path"])
                 for name, info in (extra.get("artifacts") or {}).items()}
    return PythonModelContext(artifacts, dict(model_config or {}))


def _example_predictor(python_model, wrapper):
    """Runs the model on the input example to infer the output schema (after giving it
    its context, as loading would)."""

    def predict(data, params):
        python_model.load_context(wrapper.context)
        return wrapper.predict(data, params)

    return predict


def log_model(name=None, loader_module=None, data_path=None, code_paths=None, conda_env=None,
              python_model=None, artifacts=None, registered_model_name=None, signature=None,
              input_example=None, await_registration_for=300, pip_requirements=None,
              extra_pip_requirements=None, metadata=None, model_config=None, params=None,
              tags=None, model_type=None, step=0, model_id=None, artifact_path=None,
              compression=None, **kwargs):
    """Log a custom model as a logged model (``models:/<model_id>``) linked to the active
    run; returns its :class:`~skiff.models.model.ModelInfo`."""
    import sys

    from skiff.models.logged import log_model as _log

    return _log(
        sys.modules[__name__], name=name, artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for, params=params, tags=tags,
        model_type=model_type, step=step, model_id=model_id,
        save_kwargs=dict(loader_module=loader_module, data_path=data_path,
                         code_paths=code_paths, conda_env=conda_env,
                         python_model=python_model, artifacts=artifacts, signature=signature,
                         input_example=input_example, pip_requirements=pip_requirements,
                         extra_pip_requirements=extra_pip_requirements, metadata=metadata,
                         model_config=model_config, compression=compression, **kwargs))
