"""Skiff: an MLflow-compatible machine-learning lifecycle platform with a small core and
plugins. ``import skiff as mlflow`` works for the tracking API.

Importing this package does no work: names are looked up on first use (PEP 562), so
``import skiff`` stays fast and pulls in no heavy dependency.
"""

from __future__ import annotations

import importlib

from skiff.version import VERSION as __version__  # noqa: F401

# name -> module that defines it
_LAZY = {
    "hookimpl": "skiff.plugins",
    "SkiffException": "skiff.errors",
    "MlflowException": "skiff.errors",
    "Client": "skiff.tracking.client",
    "MlflowClient": "skiff.tracking.client",
    "ActiveRun": "skiff.tracking.fluent",
}
for _name in ("register_model", "search_registered_models", "search_model_versions",
              "set_model_version_tag"):
    _LAZY[_name] = "skiff.tracking._register"
_FLUENT = (
    "set_tracking_uri get_tracking_uri is_tracking_uri_set set_registry_uri get_registry_uri "
    "set_experiment get_experiment get_experiment_by_name create_experiment delete_experiment "
    "restore_experiment rename_experiment search_experiments set_experiment_tag "
    "set_experiment_tags delete_experiment_tag start_run end_run active_run last_active_run "
    "get_run delete_run log_param log_params log_metric log_metrics set_tag set_tags "
    "delete_tag log_artifact log_artifacts log_text log_dict log_figure log_image log_input "
    "log_inputs get_artifact_uri search_runs flush_async_logging get_parent_run "
).split()
for _name in _FLUENT:
    _LAZY[_name] = "skiff.tracking.fluent"

# submodules reachable as attributes (skiff.entities, skiff.artifacts ...)
_SUBMODULES = {
    "entities", "artifacts", "tracking", "plugins", "hookspecs", "errors", "search",
    "store", "validation", "env", "models", "pyfunc", "projects", "deployments",
}

__all__ = sorted(set(_LAZY) | {"__version__"})


def _install_flavor_imports() -> None:
    # ``import skiff.sklearn`` resolves through the flavor hook (only when asked for).
    from skiff.flavors import install_import_hook

    install_import_hook()


_install_flavor_imports()


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        value = importlib.import_module(f"skiff.{name}")
        globals()[name] = value
        return value
    if not name.startswith("_"):
        # skiff.<flavor> resolves through the flavor hook (skiff.sklearn, skiff.pytorch).
        from skiff.flavors import load_flavor_module

        value = load_flavor_module(name)
        if value is not None:
            globals()[name] = value
            return value
    raise AttributeError(f"module 'skiff' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
