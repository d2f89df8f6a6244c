import pytest


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path, monkeypatch):
    """Every test gets its own tracking URI and a fresh plugin manager and store cache."""
    from skiff import plugins
    from skiff.tracking import _stores, fluent

    for name in ("SKIFF_TRACKING_URI", "MLFLOW_TRACKING_URI", "SKIFF_EXPERIMENT_NAME",
                 "MLFLOW_EXPERIMENT_NAME", "SKIFF_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID",
                 "SKIFF_RUN_ID", "MLFLOW_RUN_ID", "SKIFF_ENABLE_ASYNC_LOGGING",
                 "MLFLOW_ENABLE_ASYNC_LOGGING", "SKIFF_LOAD_PLUGINS", "SKIFF_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_stores, "_tracking_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    plugins.set_plugin_manager(None)
    _stores.clear_store_cache()
    yield
    while fluent.active_run():
        fluent._run_stack().pop()
    plugins.set_plugin_manager(None)
    _stores.clear_store_cache()
