"""save_model / log_model / load_model and the pyfunc loader for scikit-learn models.

The MLmodel written here is MLflow's: ``loader_module: mlflow.sklearn`` so MLflow loads it
with its own flavor, and Skiff maps that name back to this plugin.
"""

from __future__ import annotations

import os

from skiff.errors import SkiffException
from skiff_flavor_sklearn import serialization

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_SKOPS = serialization.SKOPS
SERIALIZATION_FORMAT_PICKLE = serialization.PICKLE
SERIALIZATION_FORMAT_CLOUDPICKLE = serialization.CLOUDPICKLE
SUPPORTED_SERIALIZATION_FORMATS = list(serialization.FORMATS)
SUPPORTED_PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba",
                         "predict_joint_log_proba", "score")


def get_default_pip_requirements(include_cloudpickle=False, include_skops=False) -> list[str]:
    from skiff.models.environment import pinned

    reqs = [pinned("scikit-learn")]
    if include_cloudpickle:
        reqs.append(pinned("cloudpickle"))
    if include_skops:
        reqs.append(pinned("skops"))
    return reqs


def _requirements(sk_model, serialization_format: str) -> list[str]:
    from skiff.models.environment import model_class_modules, requirements_for_modules

    reqs = get_default_pip_requirements(
        include_cloudpickle=serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE,
        include_skops=serialization_format == SERIALIZATION_FORMAT_SKOPS)
    for req in requirements_for_modules(model_class_modules(sk_model)):
        if req not in reqs:
            reqs.append(req)
    return reqs


def save_model(sk_model, path, conda_env=None, code_paths=None, mlflow_model=None,
               serialization_format=SERIALIZATION_FORMAT_SKOPS, signature=None,
               input_example=None, pip_requirements=None, extra_pip_requirements=None,
               pyfunc_predict_fn="predict", metadata=None, skops_trusted_types=None):
    """Save ``sk_model`` in MLflow's sklearn format at local ``path`` (which must not exist
    or be empty)."""
    import sklearn

    from skiff.models.model import Model
    from skiff.models.saving import copy_code_paths, finish_save, prepare_model_dir
    from skiff.pyfunc.saving import add_to_model

    serialization.check_format(serialization_format)
    if pyfunc_predict_fn not in SUPPORTED_PREDICT_FNS:
        raise SkiffException.invalid_parameter_value(
            f"Unsupported pyfunc_predict_fn {pyfunc_predict_fn!r}: expected one of "
            f"{list(SUPPORTED_PREDICT_FNS)}")
    if not hasattr(sk_model, pyfunc_predict_fn):
        raise SkiffException.invalid_parameter_value(
            f"The model ({type(sk_model).__name__}) has no {pyfunc_predict_fn!r} method")
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(path, code_paths)
    file_name = serialization.FILE_NAMES[serialization_format]
    try:
        serialization.dump(sk_model, os.path.join(path, file_name), serialization_format,
                           skops_trusted_types)
    except BaseException:
        _remove_partial(path)
        raise
    add_to_model(mlflow_model, "mlflow.sklearn", code=code, model_path=file_name,
                 predict_fn=pyfunc_predict_fn)
    mlflow_model.add_flavor(
        FLAVOR_NAME, pickled_model=file_name, sklearn_version=sklearn.__version__,
        serialization_format=serialization_format, code=code,
        skops_trusted_types=list(skops_trusted_types) if skops_trusted_types else None)

    def predict(data, _params):
        return getattr(sk_model, pyfunc_predict_fn)(data)

    return finish_save(path, mlflow_model, signature=signature, input_example=input_example,
                       predict_fn=predict,
                       default_requirements=_requirements(sk_model, serialization_format),
                       pip_requirements=pip_requirements,
                       extra_pip_requirements=extra_pip_requirements, conda_env=conda_env,
                       metadata=metadata)


def _remove_partial(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def log_model(sk_model, artifact_path=None, conda_env=None, code_paths=None,
              serialization_format=SERIALIZATION_FORMAT_SKOPS, registered_model_name=None,
              signature=None, input_example=None, await_registration_for=300,
              pip_requirements=None, extra_pip_requirements=None,
              pyfunc_predict_fn="predict", metadata=None, params=None, tags=None,
              model_type=None, step=0, model_id=None, name=None, skops_trusted_types=None):
    """Log ``sk_model`` as a logged model (``models:/<model_id>``) linked to the active run;
    returns its ModelInfo."""
    import sys

    from skiff.models.logged import log_model as _log

    return _log(
        sys.modules["skiff_flavor_sklearn.flavor"], name=name, artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for, params=params, tags=tags,
        model_type=model_type, step=step, model_id=model_id,
        save_kwargs=dict(sk_model=sk_model, conda_env=conda_env, code_paths=code_paths,
                         serialization_format=serialization_format, signature=signature,
                         input_example=input_example, pip_requirements=pip_requirements,
                         extra_pip_requirements=extra_pip_requirements,
                         pyfunc_predict_fn=pyfunc_predict_fn, metadata=metadata,
                         skops_trusted_types=skops_trusted_types))


def _load_from_dir(model_dir: str):
    from skiff.models.model import Model

    model = Model.load(model_dir)
    conf = model.get_flavor(FLAVOR_NAME)
    fmt = conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE)
    file_name = conf.get("pickled_model") or serialization.FILE_NAMES[fmt]
    return serialization.load(os.path.join(model_dir, file_name), fmt,
                              conf.get("skops_trusted_types"))


def load_model(model_uri, dst_path=None):
    """The scikit-learn estimator saved at ``model_uri`` (any model URI)."""
    from skiff.models.saving import download_model

    return _load_from_dir(download_model(model_uri, dst_path))


def _load_pyfunc(path):
    """pyfunc loader: ``path`` is the model directory, or the model file itself."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    return SklearnModelWrapper(_load_from_dir(model_dir))


class SklearnModelWrapper:
    """The pyfunc face of an estimator: ``predict`` plus whichever of predict_proba,
    predict_log_proba, predict_joint_log_proba and score it has (``predict_fn``)."""

    def __init__(self, sklearn_model):
        from skiff_flavor_sklearn._matrix_predict import matrix_twin

        self.sklearn_model = sklearn_model
        self._twin = matrix_twin(sklearn_model)
        self._names = list(sklearn_model.feature_names_in_) if self._twin is not None else None
        for fn in SUPPORTED_PREDICT_FNS[1:]:
            method = getattr(sklearn_model, fn, None)
            if method is not None:
                setattr(self, fn, method)

    def get_raw_model(self):
        return self.sklearn_model

    def predict(self, data, params=None):
        if self._twin is not None:  # a DataFrame of the fitted columns as a matrix: faster
            from skiff_flavor_sklearn._matrix_predict import as_matrix

            matrix = as_matrix(data, self._names)
            if matrix is not None:
                return self._twin.predict(matrix)
        return self.sklearn_model.predict(data)
