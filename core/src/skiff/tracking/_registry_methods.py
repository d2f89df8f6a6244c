"""Registry methods of ``Client``, delegated to the registry store (see
``registry_client``); kept out of ``client.py`` so it stays about tracking."""

from __future__ import annotations

import functools


def bind(client, name: str):
    """A bound registry method for ``name``, or None if it is not a registry method."""
    if name.startswith("_"):
        return None
    from skiff.tracking import registry_client

    if name not in registry_client.__all__:
        return None
    return functools.partial(getattr(registry_client, name), client)
