"""skiff.pytorch.log_model, state dicts as run artifacts, and autolog() of the train() loop
helper, against a real ./mlruns file store (hence here, where every distribution is
installed)."""

from __future__ import annotations

import numpy as np
import pytest

import skiff
import skiff.pyfunc

torch = pytest.importorskip("torch")
pytest.importorskip("skiff_flavor_pytorch")
pytest.importorskip("skiff_stores_file")


@pytest.fixture(scope="module")
def features():
    return np.random.default_rng(0).random((12, 4), dtype=np.float32)


@pytest.fixture(scope="module")
def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 2)).eval()


def _client():
    from skiff.tracking.client import Client

    return Client()


def _loaders():
    from torch.utils.data import DataLoader, TensorDataset

    gen = torch.Generator().manual_seed(0)
    X = torch.rand(32, 4, generator=gen)
    y = (X.sum(dim=1, keepdim=True) > 2).float()
    data = TensorDataset(X, y)
    return DataLoader(data, batch_size=8), DataLoader(data, batch_size=16)


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))


@pytest.fixture
def autolog():
    skiff.pytorch.autolog(serialization_format="pickle")
    yield
    skiff.pytorch.autolog(disable=True)


def test_log_model_and_load_by_uri(mlp, features):
    with skiff.start_run() as run:
        info = skiff.pytorch.log_model(mlp, name="net", input_example=features[:3])
    assert info.model_uri.startswith("models:/m-") and info.run_id == run.info.run_id
    assert info.flavors["pytorch"]["model_data"] == "data"
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/net"):
        model = skiff.pyfunc.load_model(uri)
        with torch.no_grad():
            want = mlp(torch.from_numpy(features)).numpy()
        np.testing.assert_allclose(model.predict(features), want, rtol=1e-6)
    raw = skiff.pytorch.load_model(info.model_uri)
    assert isinstance(raw, torch.nn.Module)


def test_log_and_load_state_dict(mlp):
    with skiff.start_run() as run:
        skiff.pytorch.log_state_dict({"model": mlp.state_dict(), "epoch": 3}, "checkpoint")
    names = [f.path for f in _client().list_artifacts(run.info.run_id, "checkpoint")]
    assert names == ["checkpoint/state_dict.pth"]
    loaded = skiff.pytorch.load_state_dict(f"runs:/{run.info.run_id}/checkpoint")
    assert loaded["epoch"] == 3 and torch.equal(loaded["model"]["0.weight"], mlp[0].weight)


def test_train_without_autolog_logs_nothing():
    train, val = _loaders()
    net = _net()
    history = skiff.pytorch.train(net, train, torch.optim.SGD(net.parameters(), lr=0.1),
                                  torch.nn.MSELoss(), epochs=2, val_loader=val)
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2
    assert skiff.active_run() is None and not _client().search_runs(["0"])


def test_autolog_logs_params_metrics_and_model(autolog):
    train, val = _loaders()
    net = _net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.5)
    history = skiff.pytorch.train(net, train, optimizer, torch.nn.MSELoss(), epochs=3,
                                  val_loader=val)
    assert history["loss"][-1] < history["loss"][0]
    run = _client().get_run(skiff.last_active_run().info.run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["epochs"] == "3" and params["optimizer_name"] == "SGD"
    assert params["lr"] == "0.1" and params["momentum"] == "0.5"
    assert params["loss_function"] == "MSELoss"
    losses = _client().get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in losses] == [0, 1, 2]
    assert [m.value for m in losses] == pytest.approx(history["loss"])
    assert run.data.metrics["val_loss"] == pytest.approx(history["val_loss"][-1])
    [output] = run.outputs.model_outputs
    model = skiff.pyfunc.load_model(f"models:/{output.model_id}")
    X = np.random.default_rng(0).random((3, 4), dtype=np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.predict(X), want, rtol=1e-6)
    assert model.metadata.saved_input_example_info["type"] == "ndarray"


def test_autolog_inside_a_run_and_failure(autolog):
    train, _ = _loaders()
    net = _net()
    with skiff.start_run() as active:
        skiff.pytorch.train(net, train, torch.optim.Adam(net.parameters()), torch.nn.MSELoss())
        assert skiff.active_run().info.run_id == active.info.run_id
    assert _client().get_run(active.info.run_id).data.params["optimizer_name"] == "Adam"

    def broken(output, target):
        raise RuntimeError("loss exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        skiff.pytorch.train(net, train, torch.optim.Adam(net.parameters()), broken)
    failed = _client().get_run(skiff.last_active_run().info.run_id)
    assert failed.info.status == "FAILED" and not failed.outputs.model_outputs


def test_autolog_patches_lightning_when_installed(monkeypatch):
    """Lightning is not installed here: a stand-in module with Lightning's Trainer/Callback
    protocol shows what autolog() does with the real one."""
    import sys
    import types

    class Callback:
        pass

    class Trainer:
        def __init__(self, max_epochs):
            self.max_epochs, self.callbacks, self.current_epoch = max_epochs, [], 0
            self.optimizers, self.callback_metrics = [], {}

        def fit(self, model, loader):
            self.optimizers = [torch.optim.SGD(model.parameters(), lr=0.05)]
            for cb in self.callbacks:
                cb.on_train_start(self, model)
            for epoch in range(self.max_epochs):
                self.current_epoch = epoch
                self.callback_metrics = {"train_loss": torch.tensor(1.0 / (epoch + 1))}
                for cb in self.callbacks:
                    cb.on_train_epoch_end(self, model)

    fake = types.ModuleType("lightning.pytorch")
    fake.Trainer, fake.Callback = Trainer, Callback
    monkeypatch.setitem(sys.modules, "lightning", types.ModuleType("lightning"))
    monkeypatch.setitem(sys.modules, "lightning.pytorch", fake)
    skiff.pytorch.autolog(serialization_format="pickle")
    try:
        trainer = Trainer(max_epochs=2)
        trainer.fit(_net(), None)
    finally:
        skiff.pytorch.autolog(disable=True)
    assert not hasattr(Trainer.fit, "__wrapped__") and not trainer.callbacks  # unpatched
    run = _client().get_run(skiff.last_active_run().info.run_id)
    assert run.data.params["optimizer_name"] == "SGD" and run.data.params["epochs"] == "2"
    history = _client().get_metric_history(run.info.run_id, "train_loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]
    [output] = run.outputs.model_outputs
    assert skiff.pytorch.load_model(f"models:/{output.model_id}") is not None
