"""The plugin manager: built on first use, never at ``import skiff``.

Loading policy (after pluggy's own recommendation and simonw/llm):
1. add the specs of :mod:`skiff.hookspecs`;
2. load entry points of the group ``skiff``, honouring ``SKIFF_LOAD_PLUGINS`` (comma
   allow-list; empty loads none) and ``SKIFF_DISABLE_PLUGINS`` (comma deny-list, or
   ``all``); a plugin that fails to import is recorded as broken and skipped;
3. register the built-in plugins (``skiff._builtin.*``) through the same ``register``;
4. ``check_pending()`` so a typo in a hook name fails loudly.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import threading

import pluggy

from skiff import hookspecs

ENTRY_POINT_GROUP = "skiff"

BUILTIN_PLUGINS = (
    "skiff._builtin.local_artifacts",
    "skiff._builtin.local_project_backend",
    "skiff._builtin.pyfunc_flavor",
    "skiff._builtin.rest_store",
    "skiff._builtin.run_context",
)


@dataclasses.dataclass
class PluginRecord:
    """What ``skiff plugins`` and ``skiff doctor`` show about one plugin."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False
    status: str = "loaded"  # loaded | broken | blocked
    error: str | None = None


@dataclasses.dataclass
class SkiffPluginManager:
    pm: pluggy.PluginManager
    records: dict[str, PluginRecord]

    @property
    def hook(self):
        return self.pm.hook

    def plugin_name(self, plugin) -> str:
        return self.pm.get_name(plugin) or repr(plugin)

    def register(self, plugin, name: str | None = None, *, builtin: bool = False):
        """Register a plugin object (tests use this for throwaway plugins)."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        self.pm.register(plugin, name)
        self.records[name] = PluginRecord(name, getattr(plugin, "__name__", name), builtin=builtin)
        _invalidate_registries()
        return name

    def unregister(self, name: str):
        self.pm.unregister(name=name)
        self.records.pop(name, None)
        _invalidate_registries()


def _split_env(name: str) -> list[str] | None:
    from skiff.env import get_env

    value = get_env(name)
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _entry_points():
    from skiff._entry_points import find_entry_points

    return find_entry_points(ENTRY_POINT_GROUP)


def make_plugin_manager(*, entrypoints: bool = True, plugins=(), builtins: bool = True
                        ) -> SkiffPluginManager:
    pm = pluggy.PluginManager("skiff")
    pm.add_hookspecs(hookspecs)
    manager = SkiffPluginManager(pm, {})
    if entrypoints:
        _load_entry_points(manager)
    for plugin in plugins:
        name = plugin if isinstance(plugin, str) else None
        module = importlib.import_module(plugin) if isinstance(plugin, str) else plugin
        pm.register(module, name or getattr(module, "__name__", None))
        key = name or getattr(module, "__name__", repr(module))
        manager.records[key] = PluginRecord(key, getattr(module, "__name__", key))
    if builtins:
        for modname in BUILTIN_PLUGINS:
            pm.register(importlib.import_module(modname), modname)
            manager.records[modname] = PluginRecord(modname, modname, "skiff-core",
                                                    _core_version(), builtin=True)
    pm.hook.add_hookspecs.call_historic(kwargs={"pluginmanager": pm})
    pm.check_pending()
    if os.environ.get("SKIFF_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: sys.stderr.write(msg))
        pm.enable_tracing()
    return manager


def _core_version() -> str:
    from skiff.version import VERSION

    return VERSION


def _load_entry_points(manager: SkiffPluginManager) -> None:
    allow = _split_env("LOAD_PLUGINS")
    deny = _split_env("DISABLE_PLUGINS") or []
    deny_all = any(d.lower() in ("all", "true", "1", "*") for d in deny)
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        dist_name = dist.name if dist else None
        version = dist.version if dist else None
        names = {ep.name, dist_name}
        record = PluginRecord(ep.name, ep.value, dist_name, version)
        manager.records[ep.name] = record
        if (allow is not None and not names & set(allow)) or deny_all or names & set(deny):
            record.status = "blocked"
            manager.pm.set_blocked(ep.name)
            continue
        if manager.pm.get_plugin(ep.name) is not None:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not take the others down
            record.status = "broken"
            record.error = f"{type(exc).__name__}: {exc}"
            continue
        manager.pm.register(plugin, ep.name)


_lock = threading.RLock()
_manager: SkiffPluginManager | None = None
_registries = None


def get_plugin_manager() -> SkiffPluginManager:
    """The process-wide plugin manager, built the first time it is asked for."""
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                _manager = make_plugin_manager()
    return _manager


def set_plugin_manager(manager: SkiffPluginManager | None) -> None:
    """Replace (or with None, forget) the process-wide manager; used by tests."""
    global _manager
    with _lock:
        _manager = manager
        _invalidate_registries()


def _invalidate_registries() -> None:
    global _registries
    _registries = None


def get_registries():
    """The keyed capabilities every plugin registered (built on first use)."""
    global _registries
    if _registries is None:
        with _lock:
            if _registries is None:
                from skiff.registry import Registries

                _registries = Registries.collect(get_plugin_manager())
    return _registries


hookimpl = pluggy.HookimplMarker("skiff")
