"""Fixtures for plugin authors, loaded by pytest through the ``pytest11`` entry point."""

from __future__ import annotations

import contextlib

import pytest


@pytest.fixture
def plugin_manager():
    """A fresh process-wide plugin manager for one test (entry points included)."""
    from skiff import plugins

    previous = plugins._manager
    plugins.set_plugin_manager(plugins.make_plugin_manager())
    yield plugins.get_plugin_manager()
    plugins.set_plugin_manager(previous)


@contextlib.contextmanager
def registered(plugin, name: str | None = None):
    """Register a throwaway plugin object for the duration of a ``with`` block."""
    from skiff.plugins import get_plugin_manager

    manager = get_plugin_manager()
    name = manager.register(plugin, name)
    try:
        yield manager
    finally:
        manager.unregister(name)


@pytest.fixture
def tmp_tracking_uri(tmp_path, monkeypatch):
    """A fresh ``./mlruns``-style file store in a temporary directory, set as the tracking
    URI for the test (needs skiff-stores-file)."""
    from skiff.tracking import _stores

    uri = str(tmp_path / "mlruns")
    monkeypatch.setenv("SKIFF_TRACKING_URI", uri)
    monkeypatch.setattr(_stores, "_tracking_uri", None)
    _stores.clear_store_cache()
    yield uri
    _stores.clear_store_cache()
