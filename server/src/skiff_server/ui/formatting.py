"""Jinja filters: times, durations and numbers as people read them."""

from __future__ import annotations

import datetime as dt
import math


def fmt_time(ms) -> str:
    if not ms:
        return ""
    try:
        moment = dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError, TypeError):
        return str(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(start, end=None, now=None) -> str:
    if not start:
        return ""
    stop = end or now
    if not stop:
        return ""
    seconds = max(0.0, (int(stop) - int(start)) / 1000)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def fmt_number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
            return f"{value:.6g}"
        return f"{value:.6g}" if not value.is_integer() else str(int(value))
    return str(value)


def fmt_size(size) -> str:
    if size is None:
        return ""
    size = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def install(bp) -> None:
    bp.add_app_template_filter(fmt_time, "skiff_time")
    bp.add_app_template_filter(fmt_duration, "skiff_duration")
    bp.add_app_template_filter(fmt_number, "skiff_number")
    bp.add_app_template_filter(fmt_size, "skiff_size")
