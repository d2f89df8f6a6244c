import pytest


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path, monkeypatch):
    """Each test logs to its own ./mlruns with a fresh plugin manager and store cache."""
    from skiff import plugins
    from skiff.tracking import _stores, fluent

    for name in ("SKIFF_TRACKING_URI", "MLFLOW_TRACKING_URI", "SKIFF_EXPERIMENT_NAME",
                 "MLFLOW_EXPERIMENT_NAME", "SKIFF_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID",
                 "SKIFF_LOAD_PLUGINS", "SKIFF_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SKIFF_TRACKING_URI", str(tmp_path / "mlruns"))
    # skops' trusted-type list is cached per test, never in the user's cache folder
    monkeypatch.setenv("SKIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_stores, "_tracking_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    plugins.set_plugin_manager(None)
    _stores.clear_store_cache()
    yield
    while fluent.active_run():
        fluent._run_stack().pop()
    plugins.set_plugin_manager(None)
    _stores.clear_store_cache()


@pytest.fixture(scope="session")
def iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="session")
def classifier(iris):
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    return LogisticRegression(max_iter=500).fit(X, y)
