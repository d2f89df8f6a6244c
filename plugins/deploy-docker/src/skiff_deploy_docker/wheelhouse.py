"""A wheel cache for ``--bundle-dependencies`` under ~/.cache/skiff/wheels, kept across
builds. Asking the index to resolve an image's ~70 requirements takes tens of seconds even
when every wheel is at hand, so a resolution is remembered for a day: within it the same
requirements are served from the cache without the network; after it pip resolves again
(fetching only wheels the cache lacks)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile

FRESH_SECONDS = 24 * 3600


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skiff", "wheels")


def _requires(wheel: str) -> str:
    """The name and dependencies of a local wheel: what pip resolves it by."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(name).decode("utf-8", "replace").splitlines()
    return "\n".join(line for line in lines if line.startswith(("Name:", "Requires-Dist:")))


def resolution_key(specs: list[str], dists_dir: str, requirements: str | None,
                   options: list[str]) -> str:
    parts = list(options)
    for spec in specs:
        parts.append(_requires(os.path.join(dists_dir, spec)) if spec.endswith(".whl") else spec)
    if requirements and os.path.exists(requirements):
        with open(requirements, encoding="utf-8") as f:
            parts.append(f.read())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _record_path(key: str) -> str:
    return os.path.join(cache_dir(), "resolutions", f"{key}.json")


def fetch(key: str, dists_dir: str) -> bool:
    """Put a fresh remembered resolution's wheels into ``dists_dir``; False when there is
    none (or a wheel went missing)."""
    try:
        with open(_record_path(key), encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return False
    if time.time() - record.get("time", 0) > FRESH_SECONDS:
        return False
    sources = [os.path.join(cache_dir(), name) for name in record.get("wheels", [])]
    if not all(os.path.isfile(s) for s in sources):
        return False
    for source in sources:
        _place(source, os.path.join(dists_dir, os.path.basename(source)))
    return True


def remember(key: str, dists_dir: str, local: set[str]) -> None:
    """Keep the wheels pip put in ``dists_dir`` (but the ``local`` ones built from source)
    and the resolution that chose them."""
    wheels = sorted(n for n in os.listdir(dists_dir) if n.endswith(".whl") and n not in local)
    for name in wheels:
        target = os.path.join(cache_dir(), name)
        if not os.path.exists(target):
            _place(os.path.join(dists_dir, name), target)
    path = _record_path(key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _write_atomically(path, json.dumps({"time": time.time(), "wheels": wheels}).encode())


def _place(source: str, target: str) -> None:
    """A copy (not a link: a build context the user edits must not change the cache),
    renamed into place so that a concurrent build never sees half a wheel."""
    if os.path.exists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = f"{target}.{os.getpid()}.partial"
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def _write_atomically(path: str, data: bytes) -> None:
    fd, partial = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".partial")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(partial, path)
