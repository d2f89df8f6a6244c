"""PyTorch models both ways with MLflow 3.17.2: MLflow's pt2, pickled and __main__-class
models and state dicts load and predict identically in Skiff, and Skiff's in MLflow."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skiff_flavor_pytorch")
torch = pytest.importorskip("torch")

from _interop import SCRIPTS, mlflow_env  # noqa: E402

TORCH_VERSION = torch.__version__.split("+")[0]


def _find_links() -> list[str]:
    """Where the CPU torch wheel lies on this machine (pip's find-links), for uv."""
    links = os.environ.get("PIP_FIND_LINKS") or ("/opt/wheels" if os.path.isdir("/opt/wheels")
                                                 else "")
    return [arg for link in links.split() for arg in ("--find-links", link)]


def mlflow_torch_requirements() -> list[str]:
    # The same CPU build as here (uv takes the local '+cpu' wheel from the find-links).
    return ["mlflow-skinny==3.17.2", *_find_links(), f"torch=={torch.__version__}", "pandas",
            "numpy", "scipy", "cloudpickle"]


@pytest.fixture(scope="session")
def mlflow_torch_python() -> str:
    from skiff.testing.venvs import ensure_venv

    return str(ensure_venv("mlflow3-pytorch", mlflow_torch_requirements()))


def _doubler_class():
    """A module class living in __main__, so it is pickled by value as MLflow users'
    notebook models are (MLflow's process has no module of Skiff's tests to import)."""

    def __init__(self):
        torch.nn.Module.__init__(self)
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.linear(x) * 2

    return type("Doubler", (torch.nn.Module,),
                {"__init__": __init__, "forward": forward, "__module__": "__main__"})


def _predict(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()


def _save_skiff_models(out: Path, X) -> dict:
    import pandas as pd

    import skiff

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 2)).eval()
    torch.manual_seed(1)
    doubler = _doubler_class()().eval()
    frame = pd.DataFrame(X, columns=list("abcd"))
    skiff.pytorch.save_model(mlp, out / "skiff_pt2", input_example=X[:3])
    skiff.pytorch.save_model(mlp, out / "skiff_pickle_df", serialization_format="pickle",
                             input_example=frame.head(3))
    skiff.pytorch.save_model(doubler, out / "skiff_custom")
    skiff.pytorch.save_state_dict(mlp.state_dict(), out / "skiff_state_dict")
    return {"skiff_pt2": _predict(mlp, X), "skiff_pickle_df": _predict(mlp, X),
            "skiff_custom": _predict(doubler, X),
            "skiff_state_dict": {k: v.numpy() for k, v in mlp.state_dict().items()}}


@pytest.fixture(scope="module")
def torch_roundtrip(mlflow_torch_python, tmp_path_factory):
    out = tmp_path_factory.mktemp("torch-roundtrip")
    X = np.random.default_rng(0).random((20, 4), dtype=np.float32)
    np.save(out / "X.npy", X)
    skiff_expected = _save_skiff_models(out / "skiff", X)
    proc = subprocess.run(
        [mlflow_torch_python, str(SCRIPTS / "mlflow_pytorch.py"), str(out / "mlflow"),
         str(out / "X.npy"), "--", *(str(out / "skiff" / name) for name in skiff_expected)],
        capture_output=True, text=True, env=mlflow_env(out), timeout=600, cwd=str(out))
    if proc.returncode != 0:
        raise AssertionError(f"mlflow_pytorch.py failed:\n{proc.stderr[-6000:]}")
    return {"X": X, "skiff_dir": out / "skiff", "skiff_expected": skiff_expected,
            "mlflow_got": json.loads(proc.stdout.strip().splitlines()[-1]),
            "mlflow_dir": out / "mlflow",
            "mlflow_expected": json.loads((out / "mlflow" / "expected.json").read_text())}


@pytest.mark.parametrize("name", ["pt2", "pickle_df", "custom"])
def test_mlflow_models_predict_identically_in_skiff(torch_roundtrip, name):
    import pandas as pd

    import skiff

    X, path = torch_roundtrip["X"], torch_roundtrip["mlflow_dir"] / name
    want = np.asarray(torch_roundtrip["mlflow_expected"][name], dtype=np.float32)
    data = pd.DataFrame(X, columns=list("abcd")) if name.endswith("_df") else X
    got = skiff.pyfunc.load_model(str(path)).predict(data)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-7)
    raw = skiff.pytorch.load_model(str(path))
    np.testing.assert_allclose(_predict(raw, X), want, rtol=1e-6, atol=1e-7)


def test_mlflow_file_layout_is_what_skiff_writes(torch_roundtrip):
    from skiff.models import Model

    for name in ("pt2", "pickle_df"):
        mlflow_dir = torch_roundtrip["mlflow_dir"] / name
        skiff_dir = torch_roundtrip["skiff_dir"] / f"skiff_{name}"
        assert sorted(os.listdir(mlflow_dir / "data")) == sorted(os.listdir(skiff_dir / "data"))
        theirs, ours = Model.load(str(mlflow_dir)), Model.load(str(skiff_dir))
        assert theirs.flavors["pytorch"] == ours.flavors["pytorch"]
        their_pyfunc = dict(theirs.flavors["python_function"])
        our_pyfunc = dict(ours.flavors["python_function"])
        assert their_pyfunc == our_pyfunc
        assert _named_as_strings(theirs.signature) == _named_as_strings(ours.signature)
        assert theirs.saved_input_example_info == ours.saved_input_example_info


def _named_as_strings(signature) -> dict:
    """The signature's JSON with column names as strings: MLflow writes a DataFrame
    output's integer column labels as JSON numbers (``"name": 0``), Skiff as strings."""
    out = {}
    for key, value in signature.to_dict().items():
        specs = json.loads(value) if value else value
        for spec in specs or ():
            if "name" in spec:
                spec["name"] = str(spec["name"])
        out[key] = specs
    return out


def test_mlflow_state_dict_loads_in_skiff(torch_roundtrip):
    import skiff

    state = skiff.pytorch.load_state_dict(str(torch_roundtrip["mlflow_dir"] / "state_dict"))
    want = torch_roundtrip["mlflow_expected"]["state_dict"]
    assert sorted(state) == sorted(want)
    for key, value in want.items():
        np.testing.assert_array_equal(state[key].numpy(), np.asarray(value, dtype=np.float32))


def test_skiff_models_predict_identically_in_mlflow(torch_roundtrip):
    from skiff.models import Model

    got, expected = torch_roundtrip["mlflow_got"], torch_roundtrip["skiff_expected"]
    for name, want in expected.items():
        if name.endswith("state_dict"):
            assert sorted(got[name]) == sorted(want)
            for key, value in want.items():
                np.testing.assert_array_equal(np.asarray(got[name][key], np.float32), value)
            continue
        np.testing.assert_allclose(np.asarray(got[name], np.float32), want, rtol=1e-6,
                                   atol=1e-7, err_msg=name)
        np.testing.assert_allclose(np.asarray(got[name + ":raw"], np.float32), want,
                                   rtol=1e-6, atol=1e-7, err_msg=name)
        model = Model.load(str(torch_roundtrip["skiff_dir"] / name))
        mine = model.signature.to_dict() if model.signature is not None else None
        assert got[name + ":signature"] == mine, name


def test_interop_venv_has_the_cpu_torch(mlflow_torch_python):
    version = subprocess.run([mlflow_torch_python, "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == torch.__version__, f"{version} != {torch.__version__}"
