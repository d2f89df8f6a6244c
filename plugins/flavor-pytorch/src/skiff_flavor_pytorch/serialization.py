"""The files in a pytorch model's ``data/`` directory: ``model.pth`` (torch.save with a
pickle module named in ``pickle_module_info.txt``, or a TorchScript archive) and ``model.pt2``
(``torch.export``). Loading a pickled model is never silent: the file is logged."""

from __future__ import annotations

import importlib
import itertools
import logging
import os

from skiff.errors import SkiffException

_logger = logging.getLogger("skiff.pytorch")

PICKLE = "pickle"
PT2 = "pt2"
FORMATS = (PICKLE, PT2)
PICKLED_MODEL_FILE = "model.pth"
EXPORTED_MODEL_FILE = "model.pt2"
PICKLE_MODULE_INFO_FILE = "pickle_module_info.txt"
# The name written into model files: MLflow imports it, Skiff maps it to its own module.
MLFLOW_PICKLE_MODULE = "mlflow.pytorch.pickle_module"
_PICKLE_MODULE_ALIASES = {
    MLFLOW_PICKLE_MODULE: "skiff_flavor_pytorch.pickle_module",
    "skiff.pytorch.pickle_module": "skiff_flavor_pytorch.pickle_module",
}


def check_format(serialization_format: str) -> None:
    if serialization_format not in FORMATS:
        raise SkiffException.invalid_parameter_value(
            f"Unrecognized serialization format: {serialization_format!r}. The "
            f"serialization_format must be one of {list(FORMATS)}.")


def pickle_module_name(pickle_module) -> str:
    """The name recorded for ``pickle_module``: Skiff's cloudpickle module is recorded
    under MLflow's name, so that MLflow can load the file."""
    name = pickle_module.__name__
    return MLFLOW_PICKLE_MODULE if name == "skiff_flavor_pytorch.pickle_module" else name


def import_pickle_module(name: str):
    try:
        return importlib.import_module(_PICKLE_MODULE_ALIASES.get(name, name))
    except ImportError as exc:
        raise SkiffException(
            f"Cannot import the pickle module the PyTorch model was saved with: '{name}'",
            "RESOURCE_DOES_NOT_EXIST") from exc


def save_pickled(model, data_dir: str, pickle_module, **torch_save_kwargs) -> None:
    import torch

    with open(os.path.join(data_dir, PICKLE_MODULE_INFO_FILE), "w") as fh:
        fh.write(pickle_module_name(pickle_module))
    path = os.path.join(data_dir, PICKLED_MODEL_FILE)
    if isinstance(model, torch.jit.ScriptModule):
        torch.jit.save(model, path)
    else:
        torch.save(model, path, pickle_module=pickle_module, **torch_save_kwargs)


def export_pt2(model, data_dir: str, example_args: tuple, example_kwargs: dict,
               tensor_specs) -> None:
    """``torch.export`` the model traced on the example inputs; dimensions whose spec size
    is -1 are left for the exporter to make dynamic (``Dim.AUTO``)."""
    import torch
    from torch.export import Dim

    if isinstance(model, torch.jit.ScriptModule):
        raise SkiffException.invalid_parameter_value(
            "The 'pt2' serialization format cannot save a torch.jit.ScriptModule; use "
            "serialization_format='pickle'")

    def dynamic(spec):
        dims = {i: Dim.AUTO for i, size in enumerate(spec.shape or ()) if size == -1}
        return dims or None

    specs = list(tensor_specs)
    if example_kwargs:
        by_name = {s.name: s for s in specs}
        shapes = {k: dynamic(by_name[k]) if k in by_name else None for k in example_kwargs}
    else:
        if len(specs) != len(example_args):
            raise SkiffException.invalid_parameter_value(
                f"The signature has {len(specs)} inputs but the input example has "
                f"{len(example_args)}")
        shapes = tuple(dynamic(s) for s in specs)
    program = torch.export.export(model, example_args, kwargs=example_kwargs or None,
                                  dynamic_shapes=shapes)
    torch.export.save(program, os.path.join(data_dir, EXPORTED_MODEL_FILE))


def load(data_dir: str, device=None, **torch_load_kwargs):
    """The model saved in ``data_dir`` (a ``data/`` directory, or a model file itself),
    moved to ``device`` when given."""
    import torch

    exported = False
    if os.path.isdir(data_dir):
        pickled = os.path.join(data_dir, PICKLED_MODEL_FILE)
        if os.path.exists(pickled):
            path = pickled
            info = os.path.join(data_dir, PICKLE_MODULE_INFO_FILE)
            if "pickle_module" not in torch_load_kwargs and os.path.exists(info):
                with open(info) as fh:
                    torch_load_kwargs["pickle_module"] = import_pickle_module(fh.read().strip())
        else:
            path = os.path.join(data_dir, EXPORTED_MODEL_FILE)
            exported = True
            if not os.path.exists(path):
                raise SkiffException(
                    f"No PyTorch model file ({PICKLED_MODEL_FILE} or {EXPORTED_MODEL_FILE}) "
                    f"in {data_dir}", "RESOURCE_DOES_NOT_EXIST")
    else:
        path = data_dir
        exported = path.endswith(".pt2")
    if exported:
        model = torch.export.load(path).module()
        if device:
            _check_exported_device(model, device)
        return model
    model = _load_pickled(path, torch_load_kwargs)
    model.eval()
    if device:
        model.to(device=device)
    return model


def _load_pickled(path: str, kwargs: dict):
    import torch

    if _is_torchscript(path):
        kwargs.pop("pickle_module", None)
        kwargs.pop("weights_only", None)
        return torch.jit.load(path, **kwargs)
    kwargs.setdefault("weights_only", False)
    if not kwargs["weights_only"]:
        _logger.warning("Unpickling the PyTorch model file %s (with %s); unpickling runs code "
                        "from the file: only load models from sources you trust", path,
                        getattr(kwargs.get("pickle_module"), "__name__", "pickle"))
    return torch.load(path, **kwargs)


def _is_torchscript(path: str) -> bool:
    """TorchScript archives hold a ``code/`` folder; torch.save archives do not."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _check_exported_device(model, device) -> None:
    """An exported program's weights cannot move between devices: refuse a mismatch."""
    import torch

    wanted = torch.device(device).type
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        if tensor.device.type != wanted:
            raise SkiffException.invalid_parameter_value(
                f"This model was exported (pt2) with its weights on '{tensor.device.type}'; it "
                f"cannot be loaded on '{wanted}'. Save it with the model on that device: "
                f"save_model(model.to('{wanted}'), path, serialization_format='pt2')")
