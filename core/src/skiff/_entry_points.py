"""A fast reader of one entry-point group.

``importlib.metadata.entry_points()`` parses the metadata of every installed distribution
(and imports the email package to do it); the CLI's start-up time matters, so we read only
the ``entry_points.txt`` files of ``*.dist-info`` directories on ``sys.path``.
"""

from __future__ import annotations

import importlib
import os
import sys


class FoundEntryPoint:
    """The part of ``importlib.metadata.EntryPoint`` the plugin manager uses."""

    __slots__ = ("name", "value", "group", "dist")

    def __init__(self, name, value, group, dist):
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def load(self):
        module_name, _, attr = self.value.partition(":")
        module = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            module = getattr(module, part)
        return module


class _Dist:
    __slots__ = ("name", "version")

    def __init__(self, name, version):
        self.name, self.version = name, version


def _normalize(name: str) -> str:
    return name.replace("_", "-").lower()


def find_entry_points(group: str) -> list[FoundEntryPoint]:
    found, seen_dists = [], set()
    for base in sys.path:
        if not base or not os.path.isdir(base):
            continue
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for entry in names:
            if not entry.endswith(".dist-info"):
                continue
            dist_name, _, version = entry[: -len(".dist-info")].partition("-")
            key = _normalize(dist_name)
            if key in seen_dists:  # the first one on sys.path wins, as importlib does
                continue
            seen_dists.add(key)
            path = os.path.join(base, entry, "entry_points.txt")
            if not os.path.exists(path):
                continue
            found.extend(_parse(path, group, _Dist(key, version)))
    return found


def _parse(path: str, group: str, dist: _Dist) -> list[FoundEntryPoint]:
    out, current = [], None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                current = line.strip("[]").strip()
                continue
            if current == group and "=" in line:
                name, value = line.split("=", 1)
                out.append(FoundEntryPoint(name.strip(), value.strip(), group, dist))
    return out
