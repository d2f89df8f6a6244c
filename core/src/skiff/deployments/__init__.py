"""Deployments: push a model to a serving target (SageMaker, Docker, or any plugin's target).

``get_deploy_client("sagemaker:/us-east-1")`` returns the target's client; targets come from
the ``register_deployment_targets`` hook. Names load on first use (``import skiff`` stays
light).
"""

from __future__ import annotations

import importlib

_LAZY = {
    "BaseDeploymentClient": "skiff.deployments.base",
    "PredictionsResponse": "skiff.deployments.base",
    "get_deploy_client": "skiff.deployments.targets",
    "run_local": "skiff.deployments.targets",
    "target_help": "skiff.deployments.targets",
    "list_targets": "skiff.deployments.targets",
    "get_deployments_target": "skiff.deployments.targets",
    "set_deployments_target": "skiff.deployments.targets",
    "local_model_dir": "skiff.deployments.models",
    "read_mlmodel": "skiff.deployments.models",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skiff.deployments' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
