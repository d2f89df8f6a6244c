"""``skiff.<flavor>``: flavor modules found through the ``register_flavors`` hook."""

from __future__ import annotations

import importlib

from skiff.errors import SkiffException


def load_flavor_module(name: str):
    """The module registered for flavor ``name``; None when no plugin knows the name and
    no distribution is known to provide it; an error naming the distribution to install
    when one is."""
    from skiff.plugins import get_registries
    from skiff.registry import INSTALL_HINTS

    flavors = get_registries().flavors
    if name in flavors:
        target = flavors.get(name)
        return importlib.import_module(target) if isinstance(target, str) else target
    hint = INSTALL_HINTS["flavor"].get(name)
    if hint:
        raise SkiffException(
            f"The '{name}' flavor is not installed: pip install {hint}", "INVALID_PARAMETER_VALUE"
        )
    return None
