"""Metric files: one line per point, ``<timestamp> <value> <step>``.

Readers also accept MLflow's other shapes: 2 fields (``ts value``, very old files, step 0)
and 5 fields (``ts value step dataset_name dataset_digest``). Logged-model metric files carry
the run ID after the step (4 or 6 fields).
"""

from __future__ import annotations

import math

from skiff.entities import Metric
from skiff.errors import SkiffException

# A parsed point: (step, timestamp, value, dataset_name, dataset_digest, run_id).
Point = tuple


def format_value(value) -> str:
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def format_line(metric: Metric, run_id: str | None = None) -> str:
    """One line for a run's metric file (or a logged model's when ``run_id`` is given)."""
    parts = [str(int(metric.timestamp)), format_value(metric.value), str(int(metric.step))]
    if run_id is not None:
        parts.append(run_id)
    if metric.dataset_name is not None and metric.dataset_digest is not None:
        parts += [metric.dataset_name, metric.dataset_digest]
    return " ".join(parts) + "\n"


def _malformed(path: str, line: str) -> SkiffException:
    return SkiffException(f"Metric file {path!r} is malformed: line {line[:80]!r}",
                          "INTERNAL_ERROR")


def _three_field_columns(text: str):
    """(steps, timestamps, values) when every line has the usual 3 fields, else None.
    Splitting the whole text once and converting columns with map() is several times
    faster than parsing line by line."""
    tokens = text.split()
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if len(tokens) != 3 * lines:
        return None
    try:
        return (list(map(int, tokens[2::3])), list(map(int, tokens[0::3])),
                list(map(float, tokens[1::3])))
    except ValueError:
        return None


def parse_points(text: str, path: str = "", model_file: bool = False) -> list[Point]:
    if not model_file:
        columns = _three_field_columns(text)
        if columns is not None:
            return [(step, ts, value, None, None, None) for step, ts, value in zip(*columns)]
    points = []
    append = points.append
    for line in text.split("\n"):
        if not line:
            continue
        parts = line.split()
        n = len(parts)
        try:
            if model_file:
                if n not in (4, 6):
                    raise ValueError
                append((int(parts[2]), int(parts[0]), float(parts[1]),
                        parts[4] if n == 6 else None, parts[5] if n == 6 else None, parts[3]))
            elif n == 3:
                append((int(parts[2]), int(parts[0]), float(parts[1]), None, None, None))
            elif n == 2:
                append((0, int(parts[0]), float(parts[1]), None, None, None))
            elif n == 5:
                append((int(parts[2]), int(parts[0]), float(parts[1]), parts[3], parts[4], None))
            else:
                raise ValueError
        except ValueError:
            raise _malformed(path, line) from None
    return points


def _latest_key(point: Point):
    return point[0], point[1], point[2]


def latest_point(text: str, path: str = "") -> Point | None:
    """The point MLflow shows as the metric's value: max by (step, timestamp, value)."""
    columns = _three_field_columns(text)
    if columns is not None:
        if not columns[0]:
            return None
        step, ts, value = max(zip(*columns))  # the same order as MLflow's max by key
        return step, ts, value, None, None, None
    points = parse_points(text, path)
    if not points:
        return None
    return max(points, key=_latest_key)


def latest_by_dataset(text: str, path: str = "") -> list[Point]:
    """For logged-model metric files: the latest point per (dataset_name, digest)."""
    groups: dict = {}
    for point in parse_points(text, path, model_file=True):
        key = (point[3], point[4])
        best = groups.get(key)
        if best is None or _latest_key(point) > _latest_key(best):
            groups[key] = point
    return list(groups.values())


def to_metric(key: str, point: Point, run_id: str | None = None,
              model_id: str | None = None) -> Metric:
    return Metric(key=key, value=point[2], timestamp=point[1], step=point[0],
                  dataset_name=point[3], dataset_digest=point[4], model_id=model_id,
                  run_id=run_id if run_id is not None else point[5])
