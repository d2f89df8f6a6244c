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


class _FlavorFinder:
    """Lets ``import skiff.sklearn`` (as MLflow users write ``import mlflow.sklearn``) find
    the module a plugin registered for the flavor. It sits last on ``sys.meta_path``, so
    it is asked only for ``skiff.<name>`` modules that do not exist in the package."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.partition(".")
        if prefix != "skiff" or not name or "." in name or name.startswith("_"):
            return None
        import importlib.util

        try:
            module = load_flavor_module(name)
        except SkiffException as exc:
            raise ModuleNotFoundError(exc.message, name=fullname) from None
        if module is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module))


class _AliasLoader:
    def __init__(self, module):
        self.module = module
        self.original_spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        # importlib stamped our alias spec on the real module; give it back its own.
        module.__spec__ = self.original_spec


def install_import_hook() -> None:
    import sys

    if not any(isinstance(f, _FlavorFinder) for f in sys.meta_path):
        sys.meta_path.append(_FlavorFinder())
