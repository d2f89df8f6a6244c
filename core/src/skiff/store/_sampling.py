"""Choosing which steps of a metric history to show within a point budget."""

from __future__ import annotations


def sample_steps(steps: list[int], max_points: int) -> set[int]:
    """Pick at most ``max_points`` of the sorted distinct ``steps``, spread evenly over
    their index range, always keeping the first and the last."""
    if max_points <= 0 or not steps:
        return set()
    if len(steps) <= max_points:
        return set(steps)
    if max_points == 1:
        return {steps[-1]}
    stride = (len(steps) - 1) / (max_points - 1)
    return {steps[round(i * stride)] for i in range(max_points)}
