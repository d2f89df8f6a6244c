"""The fluent tracking API: ``skiff.start_run``, ``skiff.log_metric``, ... (MLflow's names).

An active-run stack per thread, an active experiment, and thin wrappers over
:class:`skiff.tracking.client.Client`. Experiment and run functions live here; the
functions that log to the active run are in ``_fluent_logging`` and re-exported.
"""

from __future__ import annotations

import threading
import time

from skiff.entities import Run, RunStatus, ViewType
from skiff.env import get_env
from skiff.errors import SkiffException
from skiff.tracking import _stores
from skiff.tracking._names import generate_run_name
from skiff.tracking.client import NOTE_TAG, PARENT_RUN_ID_TAG, RUN_NAME_TAG, Client

set_tracking_uri = _stores.set_tracking_uri
get_tracking_uri = _stores.get_tracking_uri
is_tracking_uri_set = _stores.is_tracking_uri_set
set_registry_uri = _stores.set_registry_uri
get_registry_uri = _stores.get_registry_uri

_state = threading.local()
_last_active_run_id: str | None = None
_active_experiment_id: str | None = None


def _run_stack() -> list:
    stack = getattr(_state, "runs", None)
    if stack is None:
        stack = _state.runs = []
    return stack


class ActiveRun(Run):
    """The run returned by ``start_run``; ending the ``with`` block ends the run (FAILED
    if the block raised, KILLED on KeyboardInterrupt)."""

    def __init__(self, run: Run):
        super().__init__(run.info, run.data, run.inputs, run.outputs)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        end_run(status)
        return False


def _client() -> Client:
    return Client(get_tracking_uri())


# -- experiments ---------------------------------------------------------------------------
def set_experiment(experiment_name=None, experiment_id=None):
    """Make an experiment active, creating it by name if it does not exist."""
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise SkiffException.invalid_parameter_value(
            "Must specify exactly one of: `experiment_id` or `experiment_name`.")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            client.create_experiment(experiment_name)
            experiment = client.get_experiment_by_name(experiment_name)
    if experiment.lifecycle_stage != "active":
        raise SkiffException.invalid_parameter_value(
            f"Cannot set a deleted experiment {experiment.name!r} as the active experiment. "
            "You can restore the experiment, or permanently delete the experiment to create "
            "a new one.")
    _active_experiment_id = experiment.experiment_id
    return experiment


def _current_experiment_id() -> str:
    if _active_experiment_id is not None:
        return _active_experiment_id
    name = get_env("EXPERIMENT_NAME")
    if name:
        experiment = _client().get_experiment_by_name(name)
        if experiment is None:
            return _client().create_experiment(name)
        return experiment.experiment_id
    return get_env("EXPERIMENT_ID") or "0"


def create_experiment(name, artifact_location=None, tags=None) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id):
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name):
    return _client().get_experiment_by_name(name)


def delete_experiment(experiment_id):
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id):
    _client().restore_experiment(experiment_id)


def rename_experiment(experiment_id, new_name):
    _client().rename_experiment(experiment_id, new_name)


def search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=None, filter_string=None,
                       order_by=None):
    """Every matching experiment (pages are followed), or the first ``max_results``."""
    client, out, token = _client(), [], None
    while True:
        page_size = 1000 if max_results is None else min(1000, max_results - len(out))
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out


def set_experiment_tag(key, value):
    _client().set_experiment_tag(_current_experiment_id(), key, value)


def set_experiment_tags(tags):
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key):
    _client().delete_experiment_tag(_current_experiment_id(), key)


# -- runs -----------------------------------------------------------------------------------
def start_run(run_id=None, experiment_id=None, run_name=None, nested=False,
              parent_run_id=None, tags=None, description=None, log_system_metrics=None):
    """Start a new run, or resume ``run_id`` (or SKIFF_/MLFLOW_RUN_ID), and make it active."""
    global _last_active_run_id
    stack = _run_stack()
    if stack and not nested:
        raise SkiffException.invalid_parameter_value(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, "
            "first end the current run with skiff.end_run(). To start a nested run, call "
            "start_run with nested=True")
    client = _client()
    run_id = run_id or (get_env("RUN_ID") if not stack else None)
    if run_id:
        existing = client.get_run(run_id)
        if experiment_id is not None and str(experiment_id) != existing.info.experiment_id:
            raise SkiffException.invalid_parameter_value(
                f"The run {run_id} does not belong to experiment {experiment_id}.")
        if existing.info.lifecycle_stage != "active":
            raise SkiffException.invalid_parameter_value(
                f"Cannot start run with ID {run_id} because it is in the deleted state.")
        client.update_run(run_id, RunStatus.to_string(RunStatus.RUNNING), name=run_name)
        extra = {**(tags or {})}
        if description is not None:
            extra[NOTE_TAG] = description
        if extra:
            client.log_batch(run_id, tags=_tag_objs(extra))
        run = client.get_run(run_id)
    else:
        parent_id = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
        merged = _context_tags()
        merged.update({str(k): str(v) for k, v in (tags or {}).items()})
        if parent_id:
            merged[PARENT_RUN_ID_TAG] = parent_id
        if description is not None:
            merged[NOTE_TAG] = description
        run_name = run_name or merged.get(RUN_NAME_TAG) or generate_run_name()
        merged[RUN_NAME_TAG] = run_name
        exp_id = str(experiment_id) if experiment_id is not None else _current_experiment_id()
        run = client.create_run(exp_id, tags=merged, run_name=run_name)
    active = ActiveRun(run)
    stack.append(active)
    _last_active_run_id = active.info.run_id
    return active


def _context_tags() -> dict[str, str]:
    from skiff.plugins import get_plugin_manager

    merged: dict[str, str] = {}
    for result in get_plugin_manager().hook.run_context_tags():
        if result:
            merged.update({str(k): str(v) for k, v in result.items()})
    return merged


def _tag_objs(tags: dict):
    from skiff.entities import RunTag

    return [RunTag(str(k), str(v)) for k, v in tags.items()]


def end_run(status="FINISHED"):
    """End the active run (if any) with ``status``, after flushing asynchronous logging."""
    stack = _run_stack()
    if not stack:
        return
    from skiff.tracking.async_logging import flush_async_logging

    run = stack[-1]
    try:
        flush_async_logging()
    finally:
        stack.pop()
        status_name = RunStatus.to_string(status) if isinstance(status, int) else status
        _client().set_terminated(run.info.run_id, status_name, int(time.time() * 1000))


def active_run():
    stack = _run_stack()
    return stack[-1] if stack else None


def last_active_run():
    run = active_run()
    if run is not None:
        return get_run(run.info.run_id)
    return get_run(_last_active_run_id) if _last_active_run_id else None


def get_run(run_id):
    return _client().get_run(run_id)


def get_parent_run(run_id):
    return _client().get_parent_run(run_id)


def delete_run(run_id):
    _client().delete_run(run_id)


def _active_run_id(run_id=None) -> str:
    """The given run, else the active run, else a new run started implicitly (MLflow does
    the same for ``log_*`` outside a ``with`` block)."""
    if run_id:
        return run_id
    run = active_run()
    if run is None:
        run = start_run()
    return run.info.run_id


from skiff.tracking._fluent_logging import (  # noqa: E402  (re-exported)
    delete_tag,
    flush_async_logging,
    get_artifact_uri,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_inputs,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    search_runs,
    set_tag,
    set_tags,
)

__all__ = [
    "ActiveRun", "active_run", "create_experiment", "delete_experiment", "delete_experiment_tag",
    "delete_run", "delete_tag", "end_run", "flush_async_logging", "get_artifact_uri",
    "get_experiment", "get_experiment_by_name", "get_parent_run", "get_registry_uri",
    "get_run", "get_tracking_uri", "is_tracking_uri_set", "last_active_run", "log_artifact",
    "log_artifacts", "log_dict", "log_figure", "log_image", "log_input", "log_inputs",
    "log_metric", "log_metrics", "log_param", "log_params", "log_text", "rename_experiment",
    "restore_experiment", "search_experiments", "search_runs", "set_experiment",
    "set_experiment_tag", "set_experiment_tags", "set_registry_uri", "set_tag", "set_tags",
    "set_tracking_uri", "start_run",
]
