"""log_model the MLflow 3.x way: a logged model, its files, READY, linked to the run."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import skiff
import skiff.pyfunc as pyfunc
from skiff.errors import SkiffException
from skiff.tracking.client import Client

pytest.importorskip("cloudpickle")
pytest.importorskip("skiff_stores_file")  # the store that holds the logged models


class Plus(pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["x"] + 1


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    from skiff.tracking import _stores

    monkeypatch.setenv("SKIFF_TRACKING_URI", str(tmp_path / "mlruns"))
    _stores.clear_store_cache()
    return str(tmp_path / "mlruns")


def test_log_model_in_a_run(tracking):
    df = pd.DataFrame({"x": [1.0]})
    with skiff.start_run() as run:
        info = pyfunc.log_model(name="plus", python_model=Plus(), input_example=df,
                                params={"alpha": 1}, tags={"team": "a"}, step=3)
    assert info.model_uri == f"models:/{info.model_id}" and info.model_id.startswith("m-")
    assert info.run_id == run.info.run_id and info.name == "plus"
    assert info.model_uuid == info.model_id
    assert info.artifact_path.endswith(f"/models/{info.model_id}/artifacts")
    assert info.params == {"alpha": "1"} and info.tags.get("team") == "a"
    assert info.signature.inputs.input_names() == ["x"]
    logged = Client().get_logged_model(info.model_id)
    assert logged.status == "LOGGED_MODEL_READY" and logged.source_run_id == run.info.run_id
    outputs = Client().get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(info.model_id, 3)]
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/plus"):
        from skiff.models import Model

        assert Model.load(uri).model_id == info.model_id
        model = pyfunc.load_model(uri)
        assert model.predict(df).tolist() == [2.0]
        assert model.metadata.model_id == info.model_id
        assert model.metadata.run_id == run.info.run_id


def test_log_model_without_a_run(tracking):
    info = pyfunc.log_model(name="free", python_model=Plus())
    assert info.run_id is None
    assert Client().get_logged_model(info.model_id).source_run_id is None
    from skiff.models import Model

    assert Model.load(info.model_uri).model_id == info.model_id


def test_name_and_artifact_path(tracking):
    with pytest.raises(SkiffException, match="Both"):
        pyfunc.log_model(name="a", artifact_path="b", python_model=Plus())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = pyfunc.log_model(artifact_path="legacy", python_model=Plus())
    assert info.name == "legacy"
    assert any("deprecated" in str(w.message) for w in caught)


def test_failed_save_marks_the_model_failed(tracking):
    with pytest.raises(SkiffException):
        pyfunc.log_model(name="bad", python_model=Plus(), pip_requirements=["a"],
                         extra_pip_requirements=["b"])
    models = Client().search_logged_models(["0"])
    assert [m.status for m in models] == ["LOGGED_MODEL_UPLOAD_FAILED"]


def test_unknown_model_uri_says_so(tracking):
    with pytest.raises(SkiffException) as err:
        pyfunc.load_model("models:/m-0123456789abcdef0123456789abcdef")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_runs_uri_without_a_model_says_so(tracking):
    with skiff.start_run() as run:
        pass
    with pytest.raises(SkiffException) as err:
        pyfunc.load_model(f"runs:/{run.info.run_id}/nope")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_model_log_with_a_flavor_module(tracking):
    from skiff.models import Model
    from skiff.pyfunc import saving

    info = Model.log(name="via-model-log", flavor=saving, python_model=Plus())
    assert pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"x": [1.0]})).tolist() == [2.0]


def test_registered_model_name(tracking, monkeypatch):
    calls = []

    class Version:
        version = "1"

    def register_model(model_uri, name, await_registration_for=300):
        calls.append((model_uri, name))
        return Version()

    monkeypatch.setattr(skiff, "register_model", register_model, raising=False)
    info = pyfunc.log_model(name="m", python_model=Plus(), registered_model_name="reg")
    assert calls == [(info.model_uri, "reg")] and info.registered_model_version == "1"
