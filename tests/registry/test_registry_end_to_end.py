"""The model registry through the fluent and client API on ./mlruns, and models:/ URIs
resolved by the commands that take a model URI."""

import os

import pytest

import skiff
from skiff.errors import SkiffException


class AddN(skiff.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return [x + self.n for x in model_input["x"]]


@pytest.fixture
def two_versions():
    pd = pytest.importorskip("pandas")
    with skiff.start_run() as run:
        info1 = skiff.pyfunc.log_model(name="model", python_model=AddN(1),
                                       registered_model_name="adder")
    with skiff.start_run():
        info2 = skiff.pyfunc.log_model(name="model", python_model=AddN(2))
    mv2 = skiff.register_model(info2.model_uri, "adder", tags={"k": "v"})
    return pd, run, info1, mv2


def test_register_and_resolve_every_uri_form(two_versions):
    pd, run, info1, mv2 = two_versions
    client = skiff.Client()
    assert info1.registered_model_version == "1" and mv2.version == "2"
    assert client.get_model_version("adder", "1").run_id == run.info.run_id
    client.set_registered_model_alias("adder", "champion", "1")
    client.transition_model_version_stage("adder", "2", "Production")
    frame = pd.DataFrame({"x": [1, 2]})
    for uri, expected in [("models:/adder/1", [2, 3]), ("models:/adder/2", [3, 4]),
                          ("models:/adder@champion", [2, 3]),
                          ("models:/adder/Production", [3, 4]),
                          ("models:/adder/latest", [3, 4])]:
        assert list(skiff.pyfunc.load_model(uri).predict(frame)) == expected, uri
    mlmodel = skiff.artifacts.load_text("models:/adder/1/MLmodel")
    assert "python_function" in mlmodel
    latest = {mv.current_stage: mv.version for mv in client.get_latest_versions("adder")}
    assert latest == {"None": "1", "Production": "2"}
    assert [m.name for m in skiff.search_registered_models(filter_string="name = 'adder'")] == [
        "adder"]
    assert {v.version for v in skiff.search_model_versions(filter_string="name = 'adder'")} == {
        "1", "2"}


def test_register_from_a_runs_uri_of_plain_artifacts(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"123")
    with skiff.start_run() as run:
        skiff.log_artifact(str(tmp_path / "weights.bin"), "blob")
    mv = skiff.register_model(f"runs:/{run.info.run_id}/blob", "blobs")
    assert mv.run_id == run.info.run_id
    uri = skiff.Client().get_model_version_download_uri("blobs", mv.version)
    assert uri.endswith("/artifacts/blob")
    local = skiff.artifacts.download_artifacts(artifact_uri="models:/blobs/1",
                                               dst_path=str(tmp_path / "dl"))
    assert open(os.path.join(local, "weights.bin"), "rb").read() == b"123"


def test_copy_model_version_and_bad_input(two_versions):
    client = skiff.Client()
    copied = client.copy_model_version("models:/adder/1", "adder-copy")
    assert copied.name == "adder-copy" and copied.version == "1"
    with pytest.raises(SkiffException) as err:
        client.create_registered_model("adder")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(SkiffException) as err:
        client.get_model_version("adder", "99")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(SkiffException) as err:
        client.transition_model_version_stage("adder", "1", "Prod")
    assert "Staging" in err.value.message
    client.delete_registered_model("adder")
    with pytest.raises(SkiffException):
        client.get_model_version("adder", "1")
