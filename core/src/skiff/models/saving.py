"""What every flavor's ``save_model`` shares: the target directory, code paths, the input
example, the signature, the environment files and MLmodel itself; plus fetching a model
directory from any URI."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile

from skiff.errors import SkiffException
from skiff.models.model import MLMODEL_FILE_NAME, Model, directory_size

_logger = logging.getLogger(__name__)
CODE_DIR = "code"


def prepare_model_dir(path) -> str:
    """Create ``path``; an existing non-empty directory is an error (never overwritten)."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise SkiffException(f"Path '{path}' already exists and is not empty",
                             "RESOURCE_ALREADY_EXISTS")
    os.makedirs(path, exist_ok=True)
    return path


def copy_code_paths(path: str, code_paths) -> str | None:
    """Copy ``code_paths`` (files or directories) into ``<path>/code``; returns 'code' or
    None when there are none."""
    if not code_paths:
        return None
    dest = os.path.join(path, CODE_DIR)
    os.makedirs(dest, exist_ok=True)
    for src in code_paths:
        src = os.fspath(src)
        target = os.path.join(dest, os.path.basename(os.path.normpath(src)))
        if os.path.isdir(src):
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)
    return CODE_DIR


def finish_save(path: str, mlflow_model: Model, *, signature=None, input_example=None,
                predict_fn=None, default_requirements=(), pip_requirements=None,
                extra_pip_requirements=None, conda_env=None, metadata=None) -> Model:
    """Write the input example, the signature (inferred from the example through
    ``predict_fn`` when not given; ``signature=False`` means none), the environment files
    and MLmodel into ``path``."""
    from skiff.models.environment import write_env_files

    example = None
    if input_example is not None:
        from skiff.models.input_example import Example

        example = Example(input_example)
        example.save(path)
        mlflow_model.saved_input_example_info = example.info
    if signature is None and example is not None and predict_fn is not None:
        signature = _infer_from_example(example, predict_fn)
    if signature is not None and signature is not False:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata
    write_env_files(path, list(default_requirements), pip_requirements,
                    extra_pip_requirements, conda_env)
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))
    # The size counts every file, MLmodel included; rewriting it changes the size by a
    # few bytes at most, as MLflow's own number does.
    mlflow_model.model_size_bytes = directory_size(path)
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))
    return mlflow_model


def _infer_from_example(example, predict_fn):
    from skiff.models.infer import infer_signature

    try:
        inputs = infer_signature(example.data).inputs
        # The model sees the example as a loaded model would: after schema enforcement.
        from skiff.pyfunc.enforce import validate_schema

        output = predict_fn(validate_schema(example.data, inputs), example.params)
        if not inputs.is_tensor_spec() and _is_1d_array(output):
            # as MLflow: one value per row of a column input is an (unnamed) column
            import pandas as pd

            output = pd.Series(output)
        return infer_signature(example.data, output, example.params)
    except Exception as exc:  # a signature is a convenience: never fail the save for it
        _logger.warning("Could not infer the model signature from the input example: %s", exc)
        try:
            return infer_signature(example.data, None, example.params)
        except Exception:
            return None


def _is_1d_array(value) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray) and value.ndim == 1


def is_local_uri(uri: str) -> bool:
    from skiff.registry import uri_scheme

    return uri_scheme(uri) in ("", "file")


def download_model(model_uri, dst_path=None) -> str:
    """A local directory holding the model at ``model_uri``. Local paths are used in
    place (no copy) unless ``dst_path`` is given; a URI that holds no model says so."""
    from skiff.utils.uri import local_path_from_uri

    model_uri = os.fspath(model_uri)
    if is_local_uri(model_uri):
        local = os.path.abspath(local_path_from_uri(model_uri))
        if not os.path.exists(local):
            raise SkiffException(f"Model URI '{model_uri}' does not exist: no such path",
                                 "RESOURCE_DOES_NOT_EXIST")
        if dst_path is None:
            return local
        dest = os.path.join(os.path.abspath(dst_path), os.path.basename(local.rstrip("/")))
        shutil.copytree(local, dest, dirs_exist_ok=True)
        return dest
    from skiff.artifacts.resolve import get_artifact_repository

    concrete = _resolve_model_uri(model_uri)
    target = dst_path or tempfile.mkdtemp(prefix="skiff-model-")
    os.makedirs(target, exist_ok=True)
    repo = get_artifact_repository(concrete)
    local = repo.download_artifacts("", target)
    if not os.path.exists(os.path.join(local, MLMODEL_FILE_NAME)):
        raise SkiffException(
            f"Model URI '{model_uri}' does not hold a model: no {MLMODEL_FILE_NAME} file at "
            f"'{concrete}'", "RESOURCE_DOES_NOT_EXIST")
    return local


def _resolve_model_uri(model_uri: str) -> str:
    """Concrete artifact URI; ``runs:/<run>/<name>`` falls back to the run's logged model
    of that name when the run's artifacts hold no model there (MLflow 3.x)."""
    from skiff.artifacts.resolve import get_artifact_repository, resolve_artifact_uri

    concrete = resolve_artifact_uri(model_uri)
    if not model_uri.startswith("runs:/"):
        return concrete
    try:
        repo = get_artifact_repository(concrete)
        names = {os.path.basename(f.path) for f in repo.list_artifacts()}
    except SkiffException:
        names = set()
    if MLMODEL_FILE_NAME in names:
        return concrete
    from skiff.models_uri import logged_model_for_run

    found = logged_model_for_run(model_uri)
    return found.artifact_location if found is not None else concrete


def get_model_info(model_uri) -> ModelInfo:  # noqa: F821
    model = Model.load(model_uri)
    return model.get_model_info()


def set_signature(model_uri, signature) -> None:
    """Replace the signature of a model saved at a local path."""
    from skiff.utils.uri import local_path_from_uri

    model_uri = os.fspath(model_uri)
    if not is_local_uri(model_uri):
        raise SkiffException.invalid_parameter_value(
            "set_signature updates models at a local path only; download the model first")
    path = local_path_from_uri(model_uri)
    model = Model.load(path)
    model.signature = signature
    model.save(os.path.join(path, MLMODEL_FILE_NAME))
