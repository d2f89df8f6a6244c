"""Keyed capabilities collected from the ``register_*`` hooks.

Each :class:`Registry` maps a key (URI scheme, flavor name, target name...) to a factory
and remembers which plugin registered it, so a conflict names both plugins and a miss can
say which distribution to install.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from skiff.errors import PluginConflictError, UnsupportedURIError

# Which distribution provides a key that is not installed (OTel's bootstrap-map idea).
INSTALL_HINTS = {
    "tracking store": {
        "": "skiff-stores-file", "file": "skiff-stores-file",
        "sqlite": "skiff-stores-sql", "postgresql": "skiff-stores-sql",
        "postgres": "skiff-stores-sql", "mysql": "skiff-stores-sql",
    },
    "model registry store": {
        "": "skiff-stores-file", "file": "skiff-stores-file",
        "sqlite": "skiff-stores-sql", "postgresql": "skiff-stores-sql",
        "postgres": "skiff-stores-sql", "mysql": "skiff-stores-sql",
    },
    "artifact repository": {
        "s3": "skiff-artifacts-s3", "gs": "skiff-artifacts-gcs",
        "wasbs": "skiff-artifacts-azure", "abfss": "skiff-artifacts-azure",
        "mlflow-artifacts": "skiff-core", "http": "skiff-core", "https": "skiff-core",
    },
    "flavor": {"sklearn": "skiff-flavor-sklearn", "pytorch": "skiff-flavor-pytorch"},
    "deployment target": {
        "sagemaker": "skiff-deploy-sagemaker", "docker": "skiff-deploy-docker",
    },
    "project backend": {},
    "environment manager": {},
}


@dataclasses.dataclass
class Entry:
    key: str
    factory: object
    plugin: str


@dataclasses.dataclass
class Registry:
    kind: str
    entries: dict[str, Entry] = dataclasses.field(default_factory=dict)

    def add(self, key: str, factory, plugin: str) -> None:
        key = key.lower()
        existing = self.entries.get(key)
        if existing is not None and existing.plugin != plugin:
            raise PluginConflictError(
                f"{self.kind} {key!r} is registered by two plugins: {existing.plugin!r} and "
                f"{plugin!r}. Block one with SKIFF_DISABLE_PLUGINS=<name>."
            )
        self.entries[key] = Entry(key, factory, plugin)

    def names(self) -> list[str]:
        return sorted(self.entries)

    def __contains__(self, key: str) -> bool:
        return key.lower() in self.entries

    def get(self, key: str, *, uri: str | None = None):
        """The factory for ``key``; a missing key raises an error naming what to install."""
        entry = self.entries.get(key.lower())
        if entry is None:
            raise UnsupportedURIError(self.missing_message(key, uri))
        return entry.factory

    def plugin_for(self, key: str) -> str | None:
        entry = self.entries.get(key.lower())
        return entry.plugin if entry else None

    def missing_message(self, key: str, uri: str | None = None) -> str:
        subject = f"URI {uri!r}" if uri is not None else f"{self.kind} {key!r}"
        hint = INSTALL_HINTS.get(self.kind, {}).get(key.lower())
        available = ", ".join(repr(n) for n in self.names()) or "none"
        message = f"No {self.kind} is installed for {subject}"
        if hint:
            return f"{message}: install {hint} (pip install {hint}). Installed: {available}."
        return f"{message}. Installed: {available}."


def uri_scheme(uri: str) -> str:
    """The scheme that selects a plugin: 'postgresql+psycopg://' -> 'postgresql',
    a plain or Windows path -> ''."""
    if "://" not in uri and ":" not in uri:
        return ""
    scheme = uri.split(":", 1)[0]
    if len(scheme) == 1:  # C:\path
        return ""
    return scheme.split("+", 1)[0].lower()


@dataclasses.dataclass
class Registries:
    tracking_stores: Registry
    registry_stores: Registry
    artifact_repositories: Registry
    flavors: Registry
    project_backends: Registry
    env_managers: Registry
    deployment_targets: Registry

    HOOKS: ClassVar[dict] = {
        "tracking_stores": ("register_tracking_stores", "tracking store"),
        "registry_stores": ("register_registry_stores", "model registry store"),
        "artifact_repositories": ("register_artifact_repositories", "artifact repository"),
        "flavors": ("register_flavors", "flavor"),
        "project_backends": ("register_project_backends", "project backend"),
        "env_managers": ("register_env_managers", "environment manager"),
        "deployment_targets": ("register_deployment_targets", "deployment target"),
    }

    @classmethod
    def collect(cls, manager) -> Registries:
        """Call every ``register_*`` hook implementation once, remembering who registered
        what."""
        built = {}
        for attr, (hook_name, kind) in cls.HOOKS.items():
            registry = Registry(kind)
            for impl in getattr(manager.hook, hook_name).get_hookimpls():
                plugin_name = impl.plugin_name

                def register(key, factory, _plugin=plugin_name, _registry=registry):
                    _registry.add(key, factory, _plugin)

                impl.function(register=register)
            built[attr] = registry
        return cls(**built)

    def by_plugin(self) -> dict[str, list[str]]:
        """plugin name -> ['tracking store: sqlite', ...] for ``skiff plugins``."""
        out: dict[str, list[str]] = {}
        for attr in self.HOOKS:
            registry = getattr(self, attr)
            for entry in registry.entries.values():
                out.setdefault(entry.plugin, []).append(f"{registry.kind}: {entry.key or '<path>'}")
        return out
