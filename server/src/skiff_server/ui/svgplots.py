"""Small server-drawn SVG plots (sparklines, scatter, parallel coordinates): coordinates only,
every label goes through the template's escaping."""

from __future__ import annotations

import math


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def scale(lo: float, hi: float, out_lo: float, out_hi: float):
    span = hi - lo
    if span == 0:
        return lambda v: (out_lo + out_hi) / 2
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def sparkline(points: list[tuple[float, float]], width=120, height=24) -> str:
    """An SVG polyline's ``points`` attribute for (x, y) pairs; empty when nothing to draw."""
    pts = [(x, y) for x, y in points if y is not None and math.isfinite(y)]
    if len(pts) < 2:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    sx = scale(min(xs), max(xs), 1, width - 1)
    sy = scale(min(ys), max(ys), height - 2, 2)
    return " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)


def as_float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def scatter(points, width=520, height=360, pad=48) -> dict:
    """Points [(x, y, label, href)] -> positioned circles and axis ticks."""
    xs = _finite([p[0] for p in points])
    ys = _finite([p[1] for p in points])
    if not xs or not ys:
        return {"dots": [], "xticks": [], "yticks": [], "width": width, "height": height}
    sx = scale(min(xs), max(xs), pad, width - pad / 2)
    sy = scale(min(ys), max(ys), height - pad, pad / 2)
    dots = [{"cx": round(sx(x), 1), "cy": round(sy(y), 1), "label": label, "href": href,
             "x": x, "y": y}
            for x, y, label, href in points if x is not None and y is not None]
    return {"dots": dots, "width": width, "height": height, "pad": pad,
            "xticks": [(round(sx(v), 1), v) for v in _ticks(min(xs), max(xs))],
            "yticks": [(round(sy(v), 1), v) for v in _ticks(min(ys), max(ys))]}


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if lo == hi:
        return [lo]
    step = (hi - lo) / (count - 1)
    return [lo + i * step for i in range(count)]


def parallel(axes: list[str], rows: list[dict], width=900, height=320, pad=40) -> dict:
    """Parallel coordinates: one vertical axis per key, one polyline per run.
    Non-numeric axes place their distinct values evenly (categories)."""
    if len(axes) < 2 or not rows:
        return {"axes": [], "lines": [], "width": width, "height": height}
    gap = (width - 2 * pad) / (len(axes) - 1)
    positions, axis_info = {}, []
    for i, key in enumerate(axes):
        raw = [r["values"].get(key) for r in rows]
        numbers = [as_float(v) for v in raw if v is not None]
        numeric = all(n is not None for n in numbers) and numbers
        x = pad + i * gap
        if numeric:
            lo, hi = min(numbers), max(numbers)
            sy = scale(lo, hi, height - pad, pad)
            positions[key] = lambda v, sy=sy: sy(as_float(v))
            labels = [(round(sy(lo), 1), lo), (round(sy(hi), 1), hi)]
        else:
            cats = sorted({str(v) for v in raw if v is not None})
            sy = scale(0, max(len(cats) - 1, 1), height - pad, pad)
            index = {c: n for n, c in enumerate(cats)}
            positions[key] = lambda v, sy=sy, index=index: sy(index[str(v)])
            labels = [(round(sy(n), 1), c) for n, c in enumerate(cats[:12])]
        axis_info.append({"key": key, "x": round(x, 1), "labels": labels})
    lines = []
    for r in rows:
        pts = []
        for i, key in enumerate(axes):
            v = r["values"].get(key)
            if v is None:
                continue
            pts.append(f"{pad + i * gap:.1f},{positions[key](v):.1f}")
        lines.append({"points": " ".join(pts), "label": r["label"], "color": r["color"]})
    return {"axes": axis_info, "lines": lines, "width": width, "height": height, "pad": pad}


PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]
