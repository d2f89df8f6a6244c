"""``<flavor>.log_model`` the MLflow 3.x way: a logged model in the tracking store, its files
uploaded to the logged model's artifact location, finalized READY, linked to the active run
as an output, and returned as a :class:`ModelInfo` with ``model_uri = models:/<model_id>``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings

from skiff.errors import SkiffException
from skiff.models.model import Model, ModelInfo

_logger = logging.getLogger(__name__)


def _name_from(name, artifact_path) -> str:
    if name is not None and artifact_path is not None:
        raise SkiffException.invalid_parameter_value(
            "Both 'artifact_path' (deprecated) and 'name' were given; use 'name' only")
    if artifact_path is not None:
        warnings.warn("'artifact_path' is deprecated; use 'name' instead",
                      FutureWarning, stacklevel=3)
        name = artifact_path
    return name or "model"


def log_model(flavor_module, *, name=None, artifact_path=None, registered_model_name=None,
              await_registration_for=300, params=None, tags=None, model_type=None, step=0,
              model_id=None, run_id=None, save_kwargs: dict) -> ModelInfo:
    """Save with ``flavor_module.save_model(path=..., mlflow_model=..., **save_kwargs)`` and
    log the result as a logged model."""
    from skiff.entities.logged_model import LoggedModelStatus
    from skiff.entities.run import ModelOutput
    from skiff.tracking import fluent
    from skiff.tracking.client import Client

    name = _name_from(name, artifact_path)
    client = Client()
    active = fluent.active_run()
    if run_id is None and active is not None:
        run_id = active.info.run_id
    if run_id is not None:
        experiment_id = client.get_run(run_id).info.experiment_id
    else:
        experiment_id = fluent._current_experiment_id()
    if model_id is not None:
        logged = client.get_logged_model(model_id)
    else:
        logged = client.create_logged_model(experiment_id, name=name, source_run_id=run_id,
                                            tags=tags, params=params, model_type=model_type)
    model_id = logged.model_id
    mlflow_model = Model(artifact_path=logged.artifact_location, run_id=run_id,
                         model_id=model_id, model_uuid=model_id)
    try:
        with tempfile.TemporaryDirectory(prefix="skiff-log-model-") as tmp:
            local = os.path.join(tmp, "model")
            flavor_module.save_model(path=local, mlflow_model=mlflow_model, **save_kwargs)
            client.log_model_artifacts(model_id, local)
    except BaseException:
        try:
            client.finalize_logged_model(model_id, LoggedModelStatus.UPLOAD_FAILED)
        except Exception:  # the original error matters more
            _logger.debug("could not mark logged model %s as failed", model_id, exc_info=True)
        raise
    finalized = client.finalize_logged_model(model_id, LoggedModelStatus.READY)
    if run_id is not None:
        client.log_outputs(run_id, [ModelOutput(model_id, int(step or 0))])
    info = ModelInfo.from_model(
        mlflow_model, model_uri=f"models:/{model_id}", name=name,
        params=dict(getattr(finalized, "params", None) or params or {}),
        tags=dict(getattr(finalized, "tags", None) or tags or {}),
        metrics=getattr(finalized, "metrics", None),
        creation_timestamp=getattr(finalized, "creation_timestamp", None))
    if registered_model_name is not None:
        info.registered_model_version = _register(info.model_uri, registered_model_name,
                                                  await_registration_for).version
    return info


def _register(model_uri: str, name: str, await_registration_for):
    import skiff

    try:
        register_model = skiff.register_model
    except AttributeError:
        register_model = None
    if register_model is None:
        raise SkiffException(
            f"Cannot register the model as {name!r}: no model registry is available in this "
            "installation (install a store plugin with a registry, e.g. skiff-stores-file "
            "or skiff-stores-sql)", "NOT_IMPLEMENTED")
    return register_model(model_uri, name, await_registration_for=await_registration_for)
