"""Resolve a target URI (``sagemaker:/us-east-1``, ``docker``) to the plugin that serves it.

A target plugin registers ``register(name, module)`` in ``register_deployment_targets``;
``module`` is an import path (or a module object, for throwaway test plugins) providing one
:class:`~skiff.deployments.base.BaseDeploymentClient` subclass, ``run_local`` and
``target_help``, as MLflow's deployment plugins do.
"""

from __future__ import annotations

import importlib
import inspect
import types

from skiff.errors import INVALID_PARAMETER_VALUE, SkiffException

_default_target: str | None = None


def parse_target_name(target_uri: str) -> str:
    """The plugin key of a target URI: its scheme, or the whole string without one."""
    if not target_uri or not target_uri.strip():
        raise SkiffException.invalid_parameter_value(
            "No deployment target given: pass -t/--target (e.g. -t sagemaker:/us-east-1)")
    target_uri = target_uri.strip()
    if ":" in target_uri:
        return target_uri.split(":", 1)[0].lower()
    return target_uri.lower()


def set_deployments_target(target: str) -> None:
    """The target used when ``get_deploy_client()`` is called without one."""
    parse_target_name(target)
    global _default_target
    _default_target = target


def get_deployments_target() -> str:
    from skiff.env import get_env

    target = _default_target or get_env("DEPLOYMENTS_TARGET")
    if not target:
        raise SkiffException.invalid_parameter_value(
            "No deployment target set: pass a target URI, call set_deployments_target(), or set "
            "SKIFF_DEPLOYMENTS_TARGET")
    return target


def list_targets() -> list[str]:
    """Names of the installed deployment targets."""
    from skiff.plugins import get_registries

    return get_registries().deployment_targets.names()


def _target_module(target_uri: str):
    from skiff.plugins import get_registries

    name = parse_target_name(target_uri)
    registry = get_registries().deployment_targets
    if name not in registry:
        raise SkiffException(_unknown_target_message(name, registry.names()),
                             INVALID_PARAMETER_VALUE)
    module = registry.get(name)
    if isinstance(module, str):
        module = importlib.import_module(module)
    elif not isinstance(module, types.ModuleType) and callable(module):
        module = module()  # a factory returning the module (or a namespace like one)
    return module


def _unknown_target_message(name: str, installed: list[str]) -> str:
    from skiff.registry import INSTALL_HINTS

    hint = INSTALL_HINTS.get("deployment target", {}).get(name)
    listed = ", ".join(installed) or "none"
    if hint:
        return (f"Deployment target {name!r} is not installed: pip install {hint}. "
                f"Installed targets: {listed}.")
    return (f"Unknown deployment target {name!r}: no installed plugin provides it. "
            f"Installed targets: {listed}.")


def _client_class(module, target_uri: str):
    from skiff.deployments.base import BaseDeploymentClient

    explicit = getattr(module, "DEPLOYMENT_CLIENT", None)
    if explicit is not None:
        return explicit
    found = [obj for _, obj in inspect.getmembers(module, inspect.isclass)
             if issubclass(obj, BaseDeploymentClient) and obj is not BaseDeploymentClient
             and not inspect.isabstract(obj)]
    if len(found) != 1:
        raise SkiffException(
            f"The plugin for target {target_uri!r} ({getattr(module, '__name__', module)}) must "
            f"define exactly one BaseDeploymentClient subclass; it defines {len(found)}",
            "INTERNAL_ERROR")
    return found[0]


def get_deploy_client(target_uri: str | None = None):
    """The deployment client for ``target_uri`` (or the default target)."""
    target_uri = target_uri or get_deployments_target()
    module = _target_module(target_uri)
    return _client_class(module, target_uri)(target_uri)


def run_local(target: str, name: str, model_uri: str, flavor=None, config=None):
    """Run the model locally the way ``target`` would serve it (the plugin's ``run_local``)."""
    module = _target_module(target)
    fn = getattr(module, "run_local", None)
    if fn is None:
        raise SkiffException(f"Target {target!r} does not support run-local", "NOT_IMPLEMENTED")
    return fn(target, name, model_uri, flavor=flavor, config=config)


def target_help(target: str) -> str:
    """The target's own help text (its ``target_help()``)."""
    module = _target_module(target)
    fn = getattr(module, "target_help", None)
    if fn is None:
        return f"Target {parse_target_name(target)!r} provides no help text."
    return fn()
