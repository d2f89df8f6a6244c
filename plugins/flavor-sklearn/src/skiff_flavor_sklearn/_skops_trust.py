"""skops' default trusted type names, remembered on disk between processes.

``import skops.io`` computes which types it trusts by default by importing every public
module of scikit-learn (``sklearn.utils.all_estimators``): most of the cost of loading a
small model in a fresh process. The names depend only on the installed skops, scikit-learn
and numpy, so after any process has imported ``skops.io`` (saving or loading a skops model)
they are written to a small JSON file in Skiff's cache folder, keyed by those versions and
scikit-learn's location. The fast reader (``_skops_reader``) uses them; without them it
steps aside and skops itself loads the model.

A cache file only ever narrows what is trusted to names it could hold anyway: estimator
names must be in ``sklearn.``, dtype names in ``numpy.``; anything else voids it.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

_LISTS = {  # name in skops.io._trusted_types -> prefix every entry must have
    "SKLEARN_ESTIMATOR_TYPE_NAMES": "sklearn.",
    "SKLEARN_INTERNAL_TYPE_NAMES": "sklearn.",
    "NUMPY_DTYPE_TYPE_NAMES": "numpy.",
}


def cache_dir() -> str:
    explicit = os.environ.get("SKIFF_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skiff")


def _cache_key() -> tuple[str, str] | None:
    """(what the names depend on, the cache file for it); None when skops, scikit-learn
    or numpy cannot be imported."""
    try:
        import numpy
        import sklearn
        import skops
    except ImportError:
        return None
    key = "\n".join([skops.__version__, sklearn.__version__, numpy.__version__,
                     os.path.dirname(os.path.abspath(sklearn.__file__))])
    name = f"skops-trusted-{zlib.crc32(key.encode()):08x}.json"
    return key, os.path.join(cache_dir(), name)


def _valid(data, key: str) -> bool:
    if not isinstance(data, dict) or data.get("key") != key:
        return False
    for name, prefix in _LISTS.items():
        values = data.get(name)
        if not isinstance(values, list):
            return False
        if not all(isinstance(v, str) and v.startswith(prefix) for v in values):
            return False
    return True


def _read(path: str, key: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if _valid(data, key) else None


def cached_defaults() -> dict[str, frozenset] | None:
    """The default trusted names by list (see ``_LISTS``): from skops itself when it is
    already imported, else from the cache file; None when neither has them."""
    module = sys.modules.get("skops.io._trusted_types")
    if module is not None:
        return {name: frozenset(getattr(module, name)) for name in _LISTS}
    found = _cache_key()
    data = _read(found[1], found[0]) if found is not None else None
    if data is None:
        return None
    return {name: frozenset(data[name]) for name in _LISTS}


def remember() -> None:
    """Write the names to the cache once skops.io is imported in this process (it just
    computed them). Failing to write only costs speed later."""
    module = sys.modules.get("skops.io._trusted_types")
    found = _cache_key()
    if module is None or found is None:
        return
    key, path = found
    if _read(path, key) is not None:
        return
    data = {"key": key, **{name: sorted(getattr(module, name)) for name in _LISTS}}
    if not _valid(data, key):
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass
