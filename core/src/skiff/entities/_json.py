"""Helpers for MLflow's JSON form: unset fields omitted, NaN and infinities as strings."""

from __future__ import annotations

import math

_INFINITIES = (math.inf, -math.inf)


def float_to_json(value: float):
    # one comparison for the common finite float: this runs for every metric of a search
    if value != value:
        return "NaN"
    if value in _INFINITIES:
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
    # (not ``v != []``: comparing a str or int with a list is several times slower)
    return {k: v for k, v in d.items() if v is not None and (v.__class__ is not list or v)}
