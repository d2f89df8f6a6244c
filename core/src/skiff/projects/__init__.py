"""Skiff Projects: run an MLproject directory or Git repository as a tracked run
(``mlflow.projects`` under Skiff's name).

    submitted = skiff.projects.run(".", entry_point="main", parameters={"alpha": 0.5})

Backends (``-b``) and environment managers come from plugins through the
``register_project_backends`` and ``register_env_managers`` hooks; ``local`` and the
local/virtualenv/uv/conda/docker managers are built in.
"""

from __future__ import annotations

import json
import os

from skiff.errors import SkiffException
from skiff.projects.submitted import LocalSubmittedRun, SubmittedRun

__all__ = ["run", "SubmittedRun", "LocalSubmittedRun", "ExecutionException"]

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")


class ExecutionException(SkiffException):
    """A project run that did not finish successfully."""

    def __init__(self, message, exit_code: int | None = None):
        super().__init__(message, "INTERNAL_ERROR")
        self.exit_code = exit_code


def get_backend(name: str):
    from skiff.plugins import get_registries

    registry = get_registries().project_backends
    if name not in registry:
        installed = ", ".join(registry.names()) or "none"
        raise SkiffException.invalid_parameter_value(
            f"Unknown project backend {name!r}; installed backends: {installed}")
    return registry.get(name)()


def parse_backend_config(value) -> dict:
    """A dict, a JSON string, or the path of a ``.json`` file."""
    if value is None or isinstance(value, dict):
        return dict(value or {})
    text = str(value)
    if text.endswith(".json") and os.path.isfile(text):
        with open(text, encoding="utf-8") as f:
            text = f.read()
    try:
        config = json.loads(text)
    except ValueError:
        raise SkiffException.invalid_parameter_value(
            f"Backend config {value!r} is neither a JSON object nor a .json file") from None
    if not isinstance(config, dict):
        raise SkiffException.invalid_parameter_value("Backend config must be a JSON object")
    return config


def _experiment_id(experiment_name, experiment_id, tracking_uri) -> str:
    from skiff.env import get_env
    from skiff.tracking.client import Client

    if experiment_name is not None and experiment_id is not None:
        raise SkiffException.invalid_parameter_value(
            "Specify only one of 'experiment_name' or 'experiment_id'.")
    if experiment_id is not None:
        experiment = Client(tracking_uri).get_experiment(str(experiment_id))
        return experiment.experiment_id
    name = experiment_name or get_env("EXPERIMENT_NAME")
    if name:
        client = Client(tracking_uri)
        experiment = client.get_experiment_by_name(name)
        return experiment.experiment_id if experiment else client.create_experiment(name)
    from skiff.tracking import fluent

    return fluent._current_experiment_id()


def run(uri, entry_point="main", version=None, parameters=None, docker_args=None,
        experiment_name=None, experiment_id=None, backend="local", backend_config=None,
        storage_dir=None, synchronous=True, run_id=None, run_name=None, env_manager=None,
        build_image=False, docker_auth=None) -> SubmittedRun:
    """Run the project at ``uri`` and return its :class:`SubmittedRun`.

    With ``synchronous=True`` (the default) it waits, and raises :class:`ExecutionException`
    if the entry point fails; otherwise it returns as soon as the process started.
    """
    from skiff.projects import backend as local
    from skiff.tracking._stores import get_tracking_uri

    if env_manager is not None and env_manager not in (*ENV_MANAGERS, "docker"):
        from skiff.plugins import get_registries

        if env_manager not in get_registries().env_managers:
            raise SkiffException.invalid_parameter_value(
                f"Invalid env_manager {env_manager!r}; choose one of "
                f"{', '.join(ENV_MANAGERS)}")
    config = parse_backend_config(backend_config)
    config.setdefault(local.ENV_MANAGER, env_manager)
    config.setdefault(local.SYNCHRONOUS, synchronous)
    config.setdefault(local.DOCKER_ARGS, dict(docker_args or {}))
    config.setdefault(local.STORAGE_DIR, storage_dir or _tmp_dir())
    config.setdefault(local.BUILD_IMAGE, build_image)
    config.setdefault(local.DOCKER_AUTH, docker_auth)
    config.setdefault(local.RUN_NAME, run_name)
    if run_id:
        config[local.RUN_ID] = run_id
    project_backend = get_backend(backend)
    tracking_uri = local.absolute_tracking_uri(get_tracking_uri())
    parameters = {str(k): v for k, v in (parameters or {}).items()}
    if isinstance(project_backend, local.LocalBackend):
        # Check the input before the experiment is looked up or created.
        prepared = project_backend.prepare(str(uri), entry_point, parameters, version, config,
                                           tracking_uri)
        exp_id = _experiment_id(experiment_name, experiment_id, tracking_uri)
        submitted = project_backend.launch(prepared, exp_id)
    else:
        exp_id = _experiment_id(experiment_name, experiment_id, tracking_uri)
        submitted = project_backend.run(str(uri), entry_point, parameters, version, config,
                                        tracking_uri, exp_id)
    if synchronous:
        _wait_or_raise(submitted)
    return submitted


def _tmp_dir():
    from skiff.env import get_env

    return get_env("TMP_DIR")


def _wait_or_raise(submitted: SubmittedRun) -> None:
    try:
        ok = submitted.wait()
    except KeyboardInterrupt:
        submitted.cancel()
        raise
    if not ok:
        code = getattr(submitted, "exit_code", None)
        detail = f" with exit code {code}" if code is not None else ""
        raise ExecutionException(
            f"Run (ID '{submitted.run_id}') failed{detail}", exit_code=code)
