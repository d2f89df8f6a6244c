"""Signatures from ``predict``'s type hints (MLflow 3.x), for the simple hints MLflow
users write most: a scalar type or a list of one (``list[str]``, ``list[float]``...)."""

from __future__ import annotations

import inspect
import typing

_SCALARS = {str: "string", int: "long", float: "double", bool: "boolean", bytes: "binary"}


def _schema_for(hint):
    from skiff.models.signature import ColSpec, Schema

    if typing.get_origin(hint) is list:
        args = typing.get_args(hint)
        if len(args) == 1 and args[0] in _SCALARS:
            return Schema([ColSpec(_SCALARS[args[0]])])
    return None


def signature_from_type_hints(python_model):
    """A ModelSignature when ``predict`` hints its input as ``list[<scalar>]`` (and maybe
    its output likewise), else None."""
    from skiff.models.signature import ModelSignature

    func = getattr(type(python_model), "predict", None)
    if func is None:
        return None
    try:
        hints = typing.get_type_hints(func)
        names = [n for n in inspect.signature(func).parameters if n not in ("self", "params")]
    except Exception:  # unresolvable forward references: no signature from hints
        return None
    input_name = names[-1] if names else None
    inputs = _schema_for(hints.get(input_name)) if input_name else None
    if inputs is None:
        return None
    return ModelSignature(inputs, _schema_for(hints.get("return")))
