"""save_model / log_model / load_model and the pyfunc loader for PyTorch models.

The MLmodel written here is MLflow's: ``loader_module: mlflow.pytorch`` so MLflow loads it
with its own flavor, and Skiff maps that name back to this plugin.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings

from skiff.errors import SkiffException
from skiff_flavor_pytorch import serialization
from skiff_flavor_pytorch.examples import split_example

_logger = logging.getLogger("skiff.pytorch")

FLAVOR_NAME = "pytorch"
SERIALIZATION_FORMAT_PICKLE = serialization.PICKLE
SERIALIZATION_FORMAT_PT2 = serialization.PT2
MODEL_DATA_SUBPATH = "data"
EXTRA_FILES_DIR = "extra_files"


def get_default_pip_requirements() -> list[str]:
    from skiff.models.environment import pinned

    # cloudpickle: the default pickle module of model.pth files is built on it.
    return [pinned("torch"), pinned("cloudpickle")]


def _requirements(pytorch_model) -> list[str]:
    from skiff.models.environment import model_class_modules, requirements_for_modules

    reqs = get_default_pip_requirements()
    for req in requirements_for_modules(model_class_modules(pytorch_model)):
        if req not in reqs and not req.startswith("skiff-flavor-pytorch"):
            reqs.append(req)
    return reqs


def _choose_format(serialization_format, export_model, example, scripted: bool) -> str:
    if export_model:
        if serialization_format == SERIALIZATION_FORMAT_PICKLE:
            raise SkiffException.invalid_parameter_value(
                "export_model=True and serialization_format='pickle' contradict each other; "
                "give serialization_format only")
        warnings.warn("'export_model' is deprecated; use serialization_format='pt2'",
                      FutureWarning, stacklevel=3)
        return SERIALIZATION_FORMAT_PT2
    if serialization_format is not None:
        serialization.check_format(serialization_format)
        return serialization_format
    # MLflow 3.x's default is pt2, which needs tensor input examples to trace the model;
    # without one the model is pickled (as MLflow 2.x always did) rather than refused.
    if example.exportable and not scripted:
        return SERIALIZATION_FORMAT_PT2
    _logger.info("Saving the PyTorch model as model.pth: the pt2 format needs an "
                 "input_example of numpy arrays or tensors, and no TorchScript module")
    return SERIALIZATION_FORMAT_PICKLE


def _copy_extra_files(path: str, extra_files) -> dict:
    if not extra_files:
        return {}
    if not isinstance(extra_files, (list, tuple)):
        raise SkiffException.invalid_parameter_value(
            "extra_files must be a list of file paths or artifact URIs")
    from skiff.models.saving import is_local_uri
    from skiff.utils.uri import local_path_from_uri

    root = os.path.join(path, EXTRA_FILES_DIR)
    os.makedirs(root, exist_ok=True)
    entries = []
    for uri in extra_files:
        uri = os.fspath(uri)
        if is_local_uri(uri):
            shutil.copy2(local_path_from_uri(uri), root)
        else:
            from skiff.artifacts.download import download_artifacts

            shutil.copy2(download_artifacts(artifact_uri=uri), root)
        name = os.path.basename(uri.rstrip("/"))
        entries.append({"path": f"{EXTRA_FILES_DIR}/{name}"})
    return {"extra_files": entries}


def save_model(pytorch_model, path, conda_env=None, mlflow_model=None, code_paths=None,
               pickle_module=None, signature=None, input_example=None, extra_files=None,
               pip_requirements=None, extra_pip_requirements=None, metadata=None,
               export_model=False, serialization_format=None, **kwargs):
    """Save ``pytorch_model`` (a ``torch.nn.Module``) in MLflow's pytorch format at local
    ``path``. ``serialization_format`` is ``'pt2'`` (torch.export; needs an input example
    of arrays or tensors; the default when one is given) or ``'pickle'`` (``model.pth``);
    ``kwargs`` go to ``torch.save``."""
    import torch

    from skiff.models.model import Model
    from skiff.models.saving import copy_code_paths, finish_save, prepare_model_dir
    from skiff.pyfunc.saving import add_to_model
    from skiff_flavor_pytorch import pickle_module as default_pickle_module
    from skiff_flavor_pytorch.wrapper import PyTorchModelWrapper

    if not isinstance(pytorch_model, torch.nn.Module):
        raise SkiffException.invalid_parameter_value(
            f"pytorch_model must be a torch.nn.Module, got {type(pytorch_model).__name__}")
    example = split_example(input_example)
    fmt = _choose_format(serialization_format, export_model, example,
                         isinstance(pytorch_model, torch.jit.ScriptModule))
    pickle_module = pickle_module or default_pickle_module
    if signature is None and example.saved is not None:
        signature = example.infer_signature(PyTorchModelWrapper(pytorch_model))
    if fmt == SERIALIZATION_FORMAT_PT2:
        _check_pt2_inputs(example, signature)
        from skiff_flavor_pytorch.wrapper import _floating_dtype

        example.cast_floats(_floating_dtype(pytorch_model))
    path = prepare_model_dir(path)
    try:
        mlflow_model = mlflow_model if mlflow_model is not None else Model()
        code = copy_code_paths(path, code_paths)
        data_dir = os.path.join(path, MODEL_DATA_SUBPATH)
        os.makedirs(data_dir)
        if fmt == SERIALIZATION_FORMAT_PT2:
            serialization.export_pt2(pytorch_model, data_dir, example.args, example.kwargs,
                                     signature.inputs)
        else:
            serialization.save_pickled(pytorch_model, data_dir, pickle_module, **kwargs)
        mlflow_model.add_flavor(FLAVOR_NAME, model_data=MODEL_DATA_SUBPATH,
                                pytorch_version=str(torch.__version__), code=code,
                                **_copy_extra_files(path, extra_files))
        # Several positional tensors have no pyfunc input form (MLflow adds none either).
        if not (fmt == SERIALIZATION_FORMAT_PT2 and len(example.args) > 1):
            add_to_model(mlflow_model, "mlflow.pytorch", data=MODEL_DATA_SUBPATH, code=code,
                         pickle_module_name=serialization.pickle_module_name(pickle_module),
                         model_config={"device": None})
        return finish_save(path, mlflow_model, signature=signature if signature is not None
                           else False, input_example=example.saved,
                           default_requirements=_requirements(pytorch_model),
                           pip_requirements=pip_requirements,
                           extra_pip_requirements=extra_pip_requirements,
                           conda_env=conda_env, metadata=metadata)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def _check_pt2_inputs(example, signature) -> None:
    if not example.exportable:
        raise SkiffException.invalid_parameter_value(
            "serialization_format='pt2' needs an input_example: a numpy array or tensor, a "
            "tuple or list of them, or a dict of them by forward() argument name. pt2 traces "
            "the model graph by running forward on the example")
    inputs = signature.inputs if signature is not None and signature is not False else None
    if inputs is None or not len(inputs) or not inputs.is_tensor_spec():
        raise SkiffException.invalid_parameter_value(
            "serialization_format='pt2' needs a tensor-based input signature (TensorSpec); "
            "give one, let it be inferred from the input example, or use "
            "serialization_format='pickle'")


def log_model(pytorch_model, artifact_path=None, conda_env=None, code_paths=None,
              pickle_module=None, registered_model_name=None, signature=None,
              input_example=None, await_registration_for=300, extra_files=None,
              pip_requirements=None, extra_pip_requirements=None, metadata=None,
              export_model=False, serialization_format=None, name=None, params=None,
              tags=None, model_type=None, step=0, model_id=None, **kwargs):
    """Log ``pytorch_model`` as a logged model (``models:/<model_id>``) linked to the active
    run; returns its ModelInfo."""
    import sys

    from skiff.models.logged import log_model as _log

    return _log(
        sys.modules[__name__], name=name, artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for, params=params, tags=tags,
        model_type=model_type, step=step, model_id=model_id,
        save_kwargs=dict(pytorch_model=pytorch_model, conda_env=conda_env,
                         code_paths=code_paths, pickle_module=pickle_module,
                         signature=signature, input_example=input_example,
                         extra_files=extra_files, pip_requirements=pip_requirements,
                         extra_pip_requirements=extra_pip_requirements, metadata=metadata,
                         export_model=export_model, serialization_format=serialization_format,
                         **kwargs))


def load_model(model_uri, dst_path=None, device=None, **kwargs):
    """The ``torch.nn.Module`` saved at ``model_uri`` (any model URI), on ``device`` when
    given; ``kwargs`` go to ``torch.load``."""
    import sys

    import torch

    from skiff.models.model import Model
    from skiff.models.saving import download_model

    local = download_model(model_uri, dst_path)
    conf = Model.load(local).get_flavor(FLAVOR_NAME)
    code = conf.get("code")
    if code and os.path.join(local, code) not in sys.path:
        sys.path.insert(0, os.path.join(local, code))
    saved_version = conf.get("pytorch_version")
    if saved_version and saved_version != str(torch.__version__):
        _logger.warning("The model was saved with PyTorch %s; this is PyTorch %s",
                        saved_version, torch.__version__)
    data = os.path.join(local, conf.get("model_data", MODEL_DATA_SUBPATH))
    return serialization.load(data, device=device, **kwargs)


def _load_pyfunc(path, model_config=None, weights_only=False):
    """pyfunc loader: ``path`` is the model's ``data`` directory (or a model file)."""
    from skiff_flavor_pytorch.wrapper import PyTorchModelWrapper, default_device

    device = default_device(model_config)
    model = serialization.load(path, device=device, weights_only=weights_only)
    return PyTorchModelWrapper(model, device=device)
