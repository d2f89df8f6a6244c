"""Custom Python models: save, load, context, artifacts, config, code paths, and the
pickle that MLflow can read."""

from __future__ import annotations

import pickletools

import numpy as np
import pandas as pd
import pytest
import yaml

import skiff
import skiff.pyfunc as pyfunc
from skiff.errors import SkiffException
from skiff.models import Model


class Scaled(pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["factor"]) as fh:
            self.factor = float(fh.read())
        self.offset = context.model_config.get("offset", 0)

    def predict(self, context, model_input, params=None):
        return model_input["x"] * self.factor + self.offset + (params or {}).get("shift", 0)


class NoContext(pyfunc.PythonModel):
    def predict(self, model_input, params=None):
        return [len(s) for s in model_input.iloc[:, 0]]


def test_save_load_with_artifacts_config_and_params(tmp_path):
    factor = tmp_path / "factor.txt"
    factor.write_text("3")
    df = pd.DataFrame({"x": [1.0, 2.0]})
    pyfunc.save_model(tmp_path / "m", python_model=Scaled(), artifacts={"factor": str(factor)},
                      model_config={"offset": 1}, input_example=(df, {"shift": 0}))
    conf = Model.load(str(tmp_path / "m")).flavors["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.model"
    assert conf["python_model"] == "python_model.pkl"
    assert conf["artifacts"] == {"factor": {"path": "artifacts/factor/factor.txt",
                                            "uri": str(factor)}}
    assert conf["config"] == {"offset": 1}
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(df).tolist() == [4.0, 7.0]
    assert model.predict(df, params={"shift": 10}).tolist() == [14.0, 17.0]
    # model_config at load time overrides the saved one
    reloaded = pyfunc.load_model(str(tmp_path / "m"), model_config={"offset": 100})
    assert reloaded.predict(df).tolist() == [103.0, 106.0]
    sig = model.metadata.signature
    assert sig.inputs.input_names() == ["x"] and [p.name for p in sig.params] == ["shift"]
    assert isinstance(model.unwrap_python_model(), Scaled)


def test_predict_without_context_and_file_uri(tmp_path):
    pyfunc.save_model(tmp_path / "m", python_model=NoContext(), input_example=["ab", "c"])
    model = pyfunc.load_model(f"file://{tmp_path / 'm'}")
    assert model.predict(["abc", "d"]) == [3, 1]


def test_compression_and_code_paths(tmp_path):
    code = tmp_path / "helpers_for_model.py"
    code.write_text("VALUE = 41\n")
    pyfunc.save_model(tmp_path / "m", python_model=NoContext(), compression="lzma",
                      code_paths=[str(code)])
    conf = Model.load(str(tmp_path / "m")).flavors["python_function"]
    assert conf["python_model"] == "python_model.pkl.xz" and conf["code"] == "code"
    assert (tmp_path / "m" / "code" / "helpers_for_model.py").exists()
    assert pyfunc.load_model(str(tmp_path / "m")).predict(pd.DataFrame({"s": ["ab"]})) == [2]


def test_loader_module_models(tmp_path):
    data = tmp_path / "weights.txt"
    data.write_text("2")
    pkg = tmp_path / "code_src"
    pkg.mkdir()
    (pkg / "my_loader_for_test.py").write_text(
        "class _M:\n"
        "    def __init__(self, k):\n        self.k = k\n"
        "    def predict(self, data):\n        return [v * self.k for v in data['a']]\n"
        "def _load_pyfunc(path):\n"
        "    return _M(float(open(path).read()))\n")
    pyfunc.save_model(tmp_path / "m", loader_module="my_loader_for_test", data_path=str(data),
                      code_paths=[str(pkg / "my_loader_for_test.py")])
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(pd.DataFrame({"a": [1, 2]})) == [2.0, 4.0]


def test_pickle_names_mlflow_base_class_not_skiff(tmp_path):
    cls = type("InScript", (pyfunc.PythonModel,), {
        "predict": lambda self, context, model_input, params=None: model_input,
        "__module__": "__main__"})
    pyfunc.save_model(tmp_path / "m", python_model=cls())
    raw = (tmp_path / "m" / "python_model.pkl").read_bytes()
    text = "\n".join(str(arg) for _op, arg, _pos in pickletools.genops(raw))
    assert "mlflow.pyfunc.model" in text
    assert not [line for line in text.splitlines() if line.startswith("skiff")]
    loaded = pyfunc.load_model(str(tmp_path / "m"))
    assert isinstance(loaded.unwrap_python_model(), pyfunc.PythonModel)


def test_unpickling_is_logged(tmp_path, caplog):
    pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    with caplog.at_level("WARNING"):
        pyfunc.load_model(str(tmp_path / "m"))
    assert any("python_model.pkl" in r.getMessage() for r in caplog.records)


def test_requirements_and_env_files(tmp_path):
    pyfunc.save_model(tmp_path / "m", python_model=NoContext(),
                      extra_pip_requirements=["pandas"])
    reqs = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert reqs[0].startswith("cloudpickle==") and reqs[-1] == "pandas"
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][-1]["pip"] == reqs
    pyfunc.save_model(tmp_path / "m2", python_model=NoContext(), pip_requirements=["only==1"])
    assert (tmp_path / "m2" / "requirements.txt").read_text() == "only==1\n"


def test_bad_calls(tmp_path):
    with pytest.raises(SkiffException, match="either python_model"):
        pyfunc.save_model(tmp_path / "a")
    pyfunc.save_model(tmp_path / "b", python_model=NoContext())
    with pytest.raises(SkiffException, match="already exists"):
        pyfunc.save_model(tmp_path / "b", python_model=NoContext())
    with pytest.raises(SkiffException) as err:
        pyfunc.load_model(str(tmp_path / "missing"))
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    Model().save(str(tmp_path / "c.MLmodel"))
    (tmp_path / "c").mkdir()
    Model().add_flavor("other").save(str(tmp_path / "c"))
    with pytest.raises(SkiffException, match="python_function"):
        pyfunc.load_model(str(tmp_path / "c"))


def test_pyfunc_is_a_registered_flavor():
    from skiff.plugins import get_registries

    assert get_registries().flavors.get("pyfunc") == "skiff.pyfunc"
    assert skiff.pyfunc.FLAVOR_NAME == "python_function"


def test_missing_flavor_plugin_names_the_distribution(monkeypatch):
    from skiff import plugins
    from skiff.flavors import load_flavor_module

    monkeypatch.setenv("SKIFF_DISABLE_PLUGINS", "flavor-sklearn")
    plugins.set_plugin_manager(None)
    with pytest.raises(SkiffException, match="pip install skiff-flavor-sklearn"):
        load_flavor_module("sklearn")
    from skiff.pyfunc.loading import resolve_loader_module

    with pytest.raises(SkiffException, match="skiff-flavor-sklearn"):
        resolve_loader_module("mlflow.sklearn")


def test_numpy_output_signature(tmp_path):
    class Doubler(pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return np.asarray(model_input) * 2

    pyfunc.save_model(tmp_path / "m", python_model=Doubler(), input_example=np.ones((2, 3)))
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert model.metadata.signature.outputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]
    with pytest.raises(SkiffException, match="Shape of input"):
        model.predict(np.ones((2, 4)))


def test_serving_input_round_trip(tmp_path):
    from skiff.models import convert_input_example_to_serving_input, validate_serving_input

    factor = tmp_path / "f.txt"
    factor.write_text("2")
    df = pd.DataFrame({"x": [1.0, 2.0]})
    pyfunc.save_model(tmp_path / "m", python_model=Scaled(), artifacts={"factor": str(factor)},
                      input_example=(df, {"shift": 1}))
    body = (tmp_path / "m" / "serving_input_example.json").read_text()
    assert validate_serving_input(str(tmp_path / "m"), body).tolist() == [3.0, 5.0]
    payload = convert_input_example_to_serving_input((df, {"shift": 0}))
    assert validate_serving_input(str(tmp_path / "m"), payload).tolist() == [2.0, 4.0]
    # without params the schema's default (the example's value) applies
    bare = convert_input_example_to_serving_input(df)
    assert validate_serving_input(str(tmp_path / "m"), bare).tolist() == [3.0, 5.0]


def test_params_without_params_schema_are_ignored(tmp_path):
    df = pd.DataFrame({"x": [1.0]})
    factor = tmp_path / "f.txt"
    factor.write_text("1")
    pyfunc.save_model(tmp_path / "m", python_model=Scaled(), artifacts={"factor": str(factor)},
                      input_example=df)
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(df, params={"shift": 100}).tolist() == [1.0]


class Hinted(pyfunc.PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]


def test_signature_from_type_hints(tmp_path):
    pyfunc.save_model(tmp_path / "m", python_model=Hinted())
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mlmodel["is_signature_from_type_hint"] is True
    assert mlmodel["signature"]["inputs"] == '[{"type": "string", "required": true}]'
    model = pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(["a", "b"]) == ["A", "B"]
    assert model.predict(pd.DataFrame({"q": ["c"]})) == ["C"]
    with pytest.raises(SkiffException, match="element 0 is int"):
        model.predict([1])
