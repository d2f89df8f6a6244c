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
def features():
    import numpy as np

    return np.random.default_rng(0).random((12, 4), dtype=np.float32)


@pytest.fixture(scope="session")
def mlp():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 2)).eval()
