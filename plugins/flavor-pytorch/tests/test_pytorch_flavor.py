"""skiff.pytorch: pt2 and pickle formats, pyfunc inputs and devices, MLmodel keys, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import skiff
import skiff.pyfunc
from skiff.errors import SkiffException


class TwoInputs(torch.nn.Module):
    """forward takes two named tensors: fed from a dict by name."""

    def __init__(self):
        super().__init__()
        self.left = torch.nn.Linear(3, 1)
        self.right = torch.nn.Linear(2, 1)

    def forward(self, a, b):
        return self.left(a) + self.right(b)


def _expected(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X)).numpy()


def _mlmodel(path):
    return yaml.safe_load((path / "MLmodel").read_text())


def test_resolves_through_the_flavor_hook():
    import skiff_flavor_pytorch

    assert skiff.pytorch is skiff_flavor_pytorch
    import skiff.pytorch as imported

    assert imported is skiff_flavor_pytorch
    from skiff.plugins import get_registries

    assert get_registries().flavors.plugin_for("pytorch") == "flavor-pytorch"


def test_pt2_is_the_default_with_an_array_example(tmp_path, mlp, features):
    skiff.pytorch.save_model(mlp, tmp_path / "m", input_example=features[:3])
    assert sorted(p.name for p in (tmp_path / "m" / "data").iterdir()) == ["model.pt2"]
    mlmodel = _mlmodel(tmp_path / "m")
    flavor = mlmodel["flavors"]["pytorch"]
    assert flavor["model_data"] == "data" and flavor["pytorch_version"] == torch.__version__
    pyf = mlmodel["flavors"]["python_function"]
    assert pyf["loader_module"] == "mlflow.pytorch" and pyf["data"] == "data"
    assert pyf["pickle_module_name"] == "mlflow.pytorch.pickle_module"
    assert pyf["config"] == {"device": None}
    assert mlmodel["signature"]["inputs"] == (
        '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]')
    assert mlmodel["signature"]["outputs"] == (
        '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]')
    reqs = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert reqs[0] == f"torch=={torch.__version__.split('+')[0]}"
    assert reqs[1].startswith("cloudpickle==")

    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    want = _expected(mlp, features)
    # any batch size: the batch dimension was exported as dynamic
    np.testing.assert_allclose(model.predict(features), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(torch.from_numpy(features[:5])), want[:5], rtol=1e-5, atol=1e-6)
    raw = skiff.pytorch.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(raw(torch.from_numpy(features)).detach().numpy(), want,
                               rtol=1e-5, atol=1e-6)


def test_pickle_format_with_a_dataframe(tmp_path, mlp, features, caplog):
    frame = pd.DataFrame(features, columns=list("abcd"), index=range(10, 22))
    skiff.pytorch.save_model(mlp, tmp_path / "m", serialization_format="pickle",
                             input_example=frame.head(3))
    data = tmp_path / "m" / "data"
    assert sorted(p.name for p in data.iterdir()) == ["model.pth", "pickle_module_info.txt"]
    assert (data / "pickle_module_info.txt").read_text() == "mlflow.pytorch.pickle_module"
    signature = _mlmodel(tmp_path / "m")["signature"]
    assert '"name": "a"' in signature["inputs"] and '"name": 0' in signature["outputs"]
    with caplog.at_level("WARNING", logger="skiff.pytorch"):
        model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    assert any(str(data / "model.pth") in r.getMessage() for r in caplog.records)
    out = model.predict(frame)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(frame.index)
    np.testing.assert_allclose(out.to_numpy(), _expected(mlp, features), rtol=1e-5)
    with pytest.raises(SkiffException, match=r"missing inputs \[.c.\]"):
        model.predict(frame.drop(columns=["c"]))


def test_without_an_example_the_model_is_pickled(tmp_path, mlp, features):
    skiff.pytorch.save_model(mlp, tmp_path / "m")
    assert (tmp_path / "m" / "data" / "model.pth").exists()
    assert "signature" not in _mlmodel(tmp_path / "m")
    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    # float64 input meets float32 weights: cast to the weights' dtype
    np.testing.assert_allclose(model.predict(features.astype(np.float64)),
                               _expected(mlp, features), rtol=1e-5)
    assert model.predict([[0.0, 0.0, 0.0, 0.0]]).shape == (1, 2)


@pytest.mark.parametrize("fmt", ["pickle", "pt2"])
def test_dict_of_tensors_by_argument_name(tmp_path, fmt):
    torch.manual_seed(1)
    net = TwoInputs().eval()
    rng = np.random.default_rng(1)
    a, b = rng.random((6, 3), dtype=np.float32), rng.random((6, 2), dtype=np.float32)
    skiff.pytorch.save_model(net, tmp_path / "m", serialization_format=fmt,
                             input_example={"a": a[:2], "b": torch.from_numpy(b[:2])})
    inputs = _mlmodel(tmp_path / "m")["signature"]["inputs"]
    assert '"name": "a"' in inputs and '"name": "b"' in inputs
    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    with torch.no_grad():
        want = net(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(model.predict({"a": a, "b": b}), want, rtol=1e-5)
    np.testing.assert_allclose(
        model.predict({"a": torch.from_numpy(a), "b": torch.from_numpy(b)}), want, rtol=1e-5)
    with pytest.raises(SkiffException, match="missing inputs \\['b'\\]"):
        model.predict({"a": a})


def test_pt2_with_positional_tensors_has_no_pyfunc(tmp_path):
    class Add(torch.nn.Module):
        def forward(self, x, y):
            return x + y

    from skiff.models import ModelSignature, Schema, TensorSpec

    spec = TensorSpec(np.dtype("float32"), (-1, 2))
    signature = ModelSignature(Schema([spec, spec]))
    x = torch.ones(3, 2)
    skiff.pytorch.save_model(Add(), tmp_path / "m", serialization_format="pt2",
                             input_example=(x, x), signature=signature)
    assert "python_function" not in _mlmodel(tmp_path / "m")["flavors"]
    raw = skiff.pytorch.load_model(str(tmp_path / "m"))
    assert raw(torch.ones(5, 2), torch.ones(5, 2)).sum().item() == 20.0


def test_device_option(tmp_path, mlp, features, monkeypatch):
    skiff.pytorch.save_model(mlp, tmp_path / "pkl", serialization_format="pickle")
    skiff.pytorch.save_model(mlp, tmp_path / "pt2", input_example=features[:3])
    for name in ("pkl", "pt2"):
        model = skiff.pyfunc.load_model(str(tmp_path / name), model_config={"device": "cpu"})
        assert model.get_raw_model is not None and model._model_impl.device == "cpu"
        # (params reach the model only through a params schema; ask the wrapper itself)
        with pytest.raises(SkiffException, match="not an inference parameter"):
            model._model_impl.predict(features, params={"device": "cuda"})
    monkeypatch.setenv("SKIFF_DEFAULT_PREDICTION_DEVICE", "meta")
    # The variable applies when model_config names no device; pt2 weights cannot move.
    with pytest.raises(SkiffException, match="cannot be loaded on 'meta'"):
        skiff.pyfunc.load_model(str(tmp_path / "pt2"))
    moved = skiff.pyfunc.load_model(str(tmp_path / "pkl")).get_raw_model()
    assert next(moved.parameters()).device.type == "meta"
    monkeypatch.delenv("SKIFF_DEFAULT_PREDICTION_DEVICE")
    assert next(skiff.pyfunc.load_model(str(tmp_path / "pkl")).get_raw_model()
                .parameters()).device.type == "cpu"
    raw = skiff.pytorch.load_model(str(tmp_path / "pkl"), device="meta")
    assert next(raw.parameters()).device.type == "meta"


def test_torchscript_module(tmp_path, mlp, features):
    scripted = torch.jit.script(mlp)
    with pytest.raises(SkiffException, match="ScriptModule"):
        skiff.pytorch.save_model(scripted, tmp_path / "bad", serialization_format="pt2",
                                 input_example=features[:2])
    assert not (tmp_path / "bad").exists()
    skiff.pytorch.save_model(scripted, tmp_path / "m", input_example=features[:2])
    assert (tmp_path / "m" / "data" / "model.pth").exists()
    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(model.predict(features), _expected(mlp, features), rtol=1e-5)


def test_state_dicts(tmp_path, mlp):
    skiff.pytorch.save_state_dict(mlp.state_dict(), tmp_path / "sd")
    assert (tmp_path / "sd" / "state_dict.pth").exists()
    loaded = skiff.pytorch.load_state_dict(str(tmp_path / "sd"))
    assert loaded.keys() == mlp.state_dict().keys()
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    fresh.load_state_dict(loaded)
    assert torch.equal(fresh[0].weight, mlp[0].weight)
    with pytest.raises(SkiffException, match="must be a dict"):
        skiff.pytorch.save_state_dict(mlp, tmp_path / "x")


def test_extra_files_and_code_paths(tmp_path, mlp):
    extra = tmp_path / "vocab.txt"
    extra.write_text("a b c")
    skiff.pytorch.save_model(mlp, tmp_path / "m", extra_files=[str(extra)],
                             code_paths=[str(extra)])
    flavor = _mlmodel(tmp_path / "m")["flavors"]["pytorch"]
    assert flavor["extra_files"] == [{"path": "extra_files/vocab.txt"}]
    assert flavor["code"] == "code"
    assert (tmp_path / "m" / "extra_files" / "vocab.txt").read_text() == "a b c"


def test_bad_arguments(tmp_path, mlp, features):
    with pytest.raises(SkiffException, match=r"must be one of \['pickle', 'pt2'\]"):
        skiff.pytorch.save_model(mlp, tmp_path / "a", serialization_format="onnx")
    with pytest.raises(SkiffException, match="needs an input_example"):
        skiff.pytorch.save_model(mlp, tmp_path / "b", serialization_format="pt2")
    with pytest.raises(SkiffException, match="numpy array or tensor"):
        skiff.pytorch.save_model(mlp, tmp_path / "c", serialization_format="pt2",
                                 input_example=pd.DataFrame(features[:2]))
    with pytest.raises(SkiffException, match="torch.nn.Module"):
        skiff.pytorch.save_model(lambda x: x, tmp_path / "d")
    with pytest.raises(SkiffException, match="contradict"):
        skiff.pytorch.save_model(mlp, tmp_path / "e", export_model=True,
                                 serialization_format="pickle")
    for name in "abcde":
        assert not (tmp_path / name).exists()
    with pytest.raises(SkiffException, match="already exists"):
        (tmp_path / "f").mkdir()
        (tmp_path / "f" / "x").write_text("")
        skiff.pytorch.save_model(mlp, tmp_path / "f")


def test_serving_payloads(tmp_path, mlp, features):
    """What /invocations would answer: the saved serving example, and named tensors."""
    from skiff.models import validate_serving_input

    skiff.pytorch.save_model(mlp, tmp_path / "m", serialization_format="pickle",
                             input_example=features[:2])
    payload = (tmp_path / "m" / "serving_input_example.json").read_text()
    np.testing.assert_allclose(validate_serving_input(str(tmp_path / "m"), payload),
                               _expected(mlp, features[:2]), rtol=1e-5)
    torch.manual_seed(1)
    net = TwoInputs().eval()
    a, b = np.ascontiguousarray(features[:, :3]), np.ascontiguousarray(features[:, 2:])
    skiff.pytorch.save_model(net, tmp_path / "two", serialization_format="pickle",
                             input_example={"a": a[:2], "b": b[:2]})
    got = validate_serving_input(str(tmp_path / "two"),
                                 {"inputs": {"a": a.tolist(), "b": b.tolist()}})
    with torch.no_grad():
        want = net(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5)
