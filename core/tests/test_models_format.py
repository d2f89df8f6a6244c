"""The MLmodel file, input examples, environment files and models:/ URIs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from skiff.errors import SkiffException
from skiff.models import Model
from skiff.models.environment import write_env_files
from skiff.models.input_example import Example, read_example, read_example_params
from skiff.models_uri import parse_models_uri


def test_mlmodel_fields_and_omissions(tmp_path):
    model = Model(run_id=None, artifact_path=None)
    model.add_flavor("python_function", loader_module="mlflow.pyfunc.model")
    model.save(str(tmp_path))
    d = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert "artifact_path" not in d and "run_id" not in d and "signature" not in d
    assert d["model_id"] is None and d["prompts"] is None
    assert d["mlflow_version"] == "3.17.2"
    assert len(d["model_uuid"]) == 32
    assert d["utc_time_created"][:2] == "20"


def test_mlmodel_round_trip_keeps_unknown_keys(tmp_path):
    source = {
        "artifact_path": "mlflow-artifacts:/1/models/m-abc/artifacts", "flavors": {"x": {}},
        "model_uuid": "m-abc", "model_id": "m-abc", "run_id": "r1",
        "utc_time_created": "2026-01-01 00:00:00.000001", "mlflow_version": "3.18.0",
        "signature": {"inputs": '[{"type": "double", "name": "a", "required": true}]',
                      "outputs": None, "params": None},
        "is_signature_from_type_hint": False, "type_hint_from_example": False,
        "metadata": {"team": "a"}, "model_size_bytes": 10, "prompts": None,
        "env_vars": ["OPENAI_API_KEY"], "databricks_runtime": "15.4",
        "resources": {"api_version": "1"}, "auth_policy": {"x": 1},
        "some_future_key": {"kept": True},
    }
    (tmp_path / "MLmodel").write_text(yaml.safe_dump(source))
    model = Model.load(str(tmp_path))
    assert model.some_future_key == {"kept": True}
    assert model.signature.inputs.input_names() == ["a"]
    model.save(str(tmp_path / "copy"))
    again = yaml.safe_load((tmp_path / "copy").read_text())
    again.pop("skiff_version")
    assert again == source


def test_model_load_from_file_uri_and_missing(tmp_path):
    Model().save(str(tmp_path))
    assert Model.load(f"file://{tmp_path}").flavors == {}
    assert Model.load(str(tmp_path / "MLmodel")).flavors == {}
    with pytest.raises(SkiffException) as err:
        Model.load(str(tmp_path / "nope"))
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_dataframe_example_files(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    example = Example(df)
    example.save(str(tmp_path))
    assert json.loads((tmp_path / "input_example.json").read_text()) == {
        "columns": ["a", "b"], "data": [[1.0, "x"], [2.0, "y"]]}
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == {
        "dataframe_split": {"columns": ["a", "b"], "data": [[1.0, "x"], [2.0, "y"]]}}
    assert example.info == {"artifact_path": "input_example.json", "type": "dataframe",
                            "pandas_orient": "split",
                            "serving_input_path": "serving_input_example.json"}
    model = Model(saved_input_example_info=example.info)
    pd.testing.assert_frame_equal(read_example(model, str(tmp_path)), df)


@pytest.mark.parametrize("value, kind, serving", [
    (np.array([[1, 2], [3, 4]]), "ndarray", {"inputs": [[1, 2], [3, 4]]}),
    ({"a": np.array([1.0])}, "ndarray", {"inputs": {"a": [1.0]}}),
    ({"q": "hi", "n": 3}, "json_object", {"inputs": {"q": "hi", "n": 3}}),
    (["a", "b"], "json_object", {"inputs": ["a", "b"]}),
    ("text", "json_object", {"inputs": "text"}),
])
def test_other_examples(tmp_path, value, kind, serving):
    example = Example(value)
    example.save(str(tmp_path))
    assert example.info["type"] == kind
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == serving
    back = read_example(Model(saved_input_example_info=example.info), str(tmp_path))
    if kind == "ndarray" and isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
    elif kind == "json_object":
        assert back == value


def test_example_with_params(tmp_path):
    example = Example((["a"], {"temperature": 0.5}))
    example.save(str(tmp_path))
    assert json.loads((tmp_path / "input_example.json").read_text()) == {
        "inputs": ["a"], "params": {"temperature": 0.5}}
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == {
        "inputs": ["a"], "params": {"temperature": 0.5}}
    model = Model(saved_input_example_info=example.info)
    assert read_example(model, str(tmp_path)) == ["a"]
    assert read_example_params(model, str(tmp_path)) == {"temperature": 0.5}


def test_env_files(tmp_path):
    reqs = write_env_files(str(tmp_path), ["pyyaml==6.0"], extra_pip_requirements=["attrs"])
    assert reqs == ["pyyaml==6.0", "attrs"]
    assert (tmp_path / "requirements.txt").read_text() == "pyyaml==6.0\nattrs\n"
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    assert conda["name"] == "mlflow-env" and conda["channels"] == ["conda-forge"]
    assert conda["dependencies"][0].startswith("python=3.")
    assert conda["dependencies"][-1] == {"pip": ["pyyaml==6.0", "attrs"]}
    env = yaml.safe_load((tmp_path / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"]
    assert [d.split("=")[0] for d in env["build_dependencies"]] == ["pip", "setuptools", "wheel"]


def test_env_files_override_and_constraints(tmp_path):
    constraints = tmp_path / "c.txt"
    constraints.write_text("numpy<3\n")
    out = tmp_path / "m"
    out.mkdir()
    reqs = write_env_files(str(out), ["ignored==1"], pip_requirements=["a==1", f"-c {constraints}"])
    assert reqs == ["a==1", "-c constraints.txt"]
    assert (out / "constraints.txt").read_text() == "numpy<3\n"
    with pytest.raises(SkiffException, match="Only one of"):
        write_env_files(str(out), [], pip_requirements=["a"], extra_pip_requirements=["b"])


def test_requirements_inferred_from_modules():
    from skiff.models.environment import requirements_for_modules

    reqs = requirements_for_modules(["yaml.loader", "os", "skiff.models", "__main__"])
    assert len(reqs) == 1 and reqs[0].lower().startswith("pyyaml==")


@pytest.mark.parametrize("uri, parts", [
    ("models:/m-123abc", {"model_id": "m-123abc", "path": ""}),
    ("models:/m-0123456789abcdef0123456789abcdef/sub/file", {"model_id": "m-0123456789abcdef0123456789abcdef", "path": "sub/file"}),
    ("models:/iris/3", {"name": "iris", "version": "3", "path": ""}),
    ("models:/iris/3/MLmodel", {"name": "iris", "version": "3", "path": "MLmodel"}),
    ("models:/iris/Production", {"name": "iris", "stage": "Production", "path": ""}),
    ("models:/iris/latest", {"name": "iris", "stage": None, "path": ""}),
    ("models:/iris@champion", {"name": "iris", "alias": "champion", "path": ""}),
    ("models:/iris@champion/a/b", {"name": "iris", "alias": "champion", "path": "a/b"}),
])
def test_parse_models_uri(uri, parts):
    assert parse_models_uri(uri) == parts


def test_parse_models_uri_errors():
    for bad in ("models:/", "models://host/x/1", "models:/@alias", "models:/name@"):
        with pytest.raises(SkiffException):
            parse_models_uri(bad)


def test_dataframe_example_with_number_labels(tmp_path):
    # labels 0..n-1 are left out ("values" orient), others are written as JSON numbers
    default = pd.DataFrame({0: [1.0], 1: [2.0]})
    example = Example(default)
    example.save(str(tmp_path))
    assert (tmp_path / "input_example.json").read_text() == '{"data": [[1.0, 2.0]]}'
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == {
        "dataframe_split": {"data": [[1.0, 2.0]]}}
    assert example.info["pandas_orient"] == "values"
    back = read_example(Model(saved_input_example_info=example.info), str(tmp_path))
    assert list(back.columns) == [0, 1] and back.values.tolist() == [[1.0, 2.0]]

    other = Example(pd.DataFrame({5: [1.0], "a": [2.0]}))
    other.save(str(tmp_path))
    assert (tmp_path / "input_example.json").read_text() == (
        '{"columns": [5, "a"], "data": [[1.0, 2.0]]}')
    assert other.info["pandas_orient"] == "split"
    back = read_example(Model(saved_input_example_info=other.info), str(tmp_path))
    assert list(back.columns) == [5, "a"]
