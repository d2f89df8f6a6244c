"""Registry methods of ``Client``, delegated to the registry store when a plugin provides
one (the model registry lives in the store plugins and the REST store)."""

from __future__ import annotations

import functools

REGISTRY_METHODS = frozenset()


def bind(client, name: str):
    """A bound registry method for ``name``, or None if it is not a registry method."""
    try:
        from skiff.tracking import registry_client
    except ImportError:
        return None
    method = getattr(registry_client, name, None)
    if method is None or name.startswith("_"):
        return None
    return functools.partial(method, client)
