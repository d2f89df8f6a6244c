"""Models saved by MLflow 3.17.2 load and predict identically in Skiff."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skiff_flavor_sklearn")


@pytest.fixture(scope="module")
def saved(roundtrip):
    return roundtrip["mlflow_dir"], roundtrip["mlflow_expected"]


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris

    X, _ = load_iris(return_X_y=True, as_frame=True)
    return X


@pytest.mark.parametrize("name", ["sklearn_skops", "sklearn_cloudpickle", "sklearn_pickle",
                                  "sklearn_proba"])
def test_sklearn_models_predict_identically(saved, iris, name):
    import skiff

    out, expected = saved
    model = skiff.pyfunc.load_model(str(out / name))
    np.testing.assert_array_equal(np.asarray(model.predict(iris)), np.asarray(expected[name]))
    raw = skiff.sklearn.load_model(str(out / name))
    np.testing.assert_array_equal(raw.predict(iris), np.asarray(expected["sklearn_skops"]))


def test_sklearn_numpy_model_with_tensor_signature(saved, iris):
    import skiff

    out, expected = saved
    model = skiff.pyfunc.load_model(str(out / "sklearn_numpy"))
    assert model.metadata.signature.inputs.is_tensor_spec()
    np.testing.assert_array_equal(model.predict(iris.to_numpy()), expected["sklearn_numpy"])


def test_mlflow_pickle_load_is_logged(saved, caplog):
    import skiff

    out, _ = saved
    with caplog.at_level("WARNING"):
        skiff.sklearn.load_model(str(out / "sklearn_pickle"))
    assert any("model.pkl" in r.getMessage() for r in caplog.records)


def test_python_model_with_artifacts_and_params(saved, iris):
    import skiff

    out, expected = saved
    model = skiff.pyfunc.load_model(str(out / "python_model"))
    np.testing.assert_allclose(model.predict(iris), expected["python_model"])
    np.testing.assert_allclose(model.predict(iris, params={"shift": 1.0}),
                               expected["python_model_shift"])
    assert type(model.unwrap_python_model()).__name__ == "Scaled"
    assert isinstance(model.unwrap_python_model(), skiff.pyfunc.PythonModel)
    assert model.metadata.load_input_example_params() == {"shift": 0.0}


def test_python_model_without_context_and_type_hints(saved):
    import skiff

    out, expected = saved
    model = skiff.pyfunc.load_model(str(out / "python_model_hints"))
    assert model.predict(["a", "b"]) == expected["python_model_hints"]


def test_mlmodel_fields_round_trip(saved):
    from skiff.models import Model

    out, _ = saved
    path = out / "sklearn_skops"
    model = Model.load(str(path))
    assert model.flavors["sklearn"]["serialization_format"] == "skops"
    assert model.mlflow_version == "3.17.2"
    assert model.saved_input_example_info["type"] == "dataframe"
    assert len(model.load_input_example(str(path))) == 3
    # Unknown or Skiff-absent keys survive a rewrite.
    original = (path / "MLmodel").read_text()
    model.save(str(path / "MLmodel.copy"))
    import yaml

    before, after = yaml.safe_load(original), yaml.safe_load((path / "MLmodel.copy").read_text())
    after.pop("skiff_version")
    assert before == after


def test_logged_model_from_mlflow_file_store(saved, iris, monkeypatch):
    """MLflow 3.x log_model into ./mlruns: Skiff loads models:/<id> and runs:/<run>/<name>."""
    pytest.importorskip("skiff_stores_file")
    import skiff
    from skiff.tracking import _stores

    out, expected = saved
    logged = expected["logged"]
    monkeypatch.setenv("SKIFF_TRACKING_URI", str(out.parent / "mlruns"))
    _stores.clear_store_cache()
    for uri in (logged["model_uri"], f"runs:/{logged['run_id']}/iris"):
        model = skiff.pyfunc.load_model(uri)
        assert model.metadata.model_id == logged["model_id"]
        np.testing.assert_array_equal(model.predict(iris), logged["pred"])


def test_number_column_labels(saved, iris):
    """A model fitted on a frame labelled 0..3: MLflow's signature names are JSON numbers;
    Skiff reads them as numbers and hands the model the labels it was fitted on."""
    import skiff

    out, expected = saved
    model = skiff.pyfunc.load_model(str(out / "sklearn_number_columns"))
    assert model.metadata.signature.inputs.input_names() == [0, 1, 2, 3]
    numbered = iris.set_axis([0, 1, 2, 3], axis=1)
    np.testing.assert_array_equal(model.predict(numbered), expected["sklearn_number_columns"])
    example = model.metadata.load_input_example(str(out / "sklearn_number_columns"))
    assert list(example.columns) == [0, 1, 2, 3] and len(example) == 3


def test_skiff_writes_number_labels_as_mlflow_does(roundtrip):
    """Same model, same example: the signature and the example files are byte for byte
    MLflow's."""
    import yaml

    name = "sklearn_number_columns"
    ours, theirs = roundtrip["skiff_dir"] / name, roundtrip["mlflow_dir"] / name
    ours_mlmodel = yaml.safe_load((ours / "MLmodel").read_text())
    theirs_mlmodel = yaml.safe_load((theirs / "MLmodel").read_text())
    assert ours_mlmodel["signature"] == theirs_mlmodel["signature"]
    assert ours_mlmodel["saved_input_example_info"] == theirs_mlmodel["saved_input_example_info"]
    for file_name in ("input_example.json", "serving_input_example.json"):
        assert (ours / file_name).read_bytes() == (theirs / file_name).read_bytes(), file_name
