"""MLflow's model format: MLmodel, signatures, input examples and environment files.

Names are loaded on first use so ``import skiff.models`` stays light (no pandas/numpy).
"""

from __future__ import annotations

import importlib

_LAZY = {
    "Model": "skiff.models.model",
    "ModelInfo": "skiff.models.model",
    "MLMODEL_FILE_NAME": "skiff.models.model",
    "ModelSignature": "skiff.models.signature",
    "Schema": "skiff.models.signature",
    "ColSpec": "skiff.models.signature",
    "TensorSpec": "skiff.models.signature",
    "ParamSchema": "skiff.models.signature",
    "ParamSpec": "skiff.models.signature",
    "DataType": "skiff.models.signature",
    "Array": "skiff.models.signature",
    "Object": "skiff.models.signature",
    "Property": "skiff.models.signature",
    "Map": "skiff.models.signature",
    "AnyType": "skiff.models.signature",
    "infer_signature": "skiff.models.infer",
    "infer_param_schema": "skiff.models.infer",
    "set_signature": "skiff.models.saving",
    "get_model_info": "skiff.models.saving",
    "validate_schema": "skiff.pyfunc.enforce",
    "validate_serving_input": "skiff.models.serving",
    "convert_input_example_to_serving_input": "skiff.models.serving",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skiff.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
