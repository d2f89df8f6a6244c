"""Helpers for MLflow's JSON form: unset fields omitted, NaN and infinities as strings."""

from __future__ import annotations

import math


def float_to_json(value: float):
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return value


def float_from_json(value) -> float:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("nan", "infinity", "inf", "-infinity", "-inf", "+infinity"):
            return float(lowered.replace("infinity", "inf"))
    return float(value)


def compact(d: dict) -> dict:
    """Drop None values and empty lists, as MLflow's proto JSON does."""
    return {k: v for k, v in d.items() if v is not None and v != []}
