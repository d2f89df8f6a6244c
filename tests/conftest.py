"""Cross-distribution tests: every distribution is installed (nox -s integration)."""

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path, monkeypatch):
    """Each test logs to its own ./mlruns and sees a fresh plugin manager and store cache."""
    from skiff import plugins
    from skiff.tracking import _stores, fluent

    for name in list(os.environ):
        if name.startswith(("SKIFF_", "MLFLOW_")) and name not in ("SKIFF_TEST_CACHE",):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_stores, "_tracking_uri", None)
    monkeypatch.setattr(_stores, "_registry_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    plugins.set_plugin_manager(None)
    _stores.clear_store_cache()
    yield
    while fluent.active_run():
        fluent._run_stack().pop()
    plugins.set_plugin_manager(None)
    _stores.clear_store_cache()
