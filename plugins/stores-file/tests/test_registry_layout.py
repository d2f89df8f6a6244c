"""The file registry's on-disk form (MLflow's), download URIs, all-or-nothing deletion,
concurrent version allocation, and the Client end to end."""

from __future__ import annotations

import os
import threading

import pytest
import yaml

from skiff.entities import RunTag
from skiff.errors import SkiffException
from skiff_stores_file._registry import FileRegistryStore
from skiff_stores_file.store import FileTrackingStore


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "mlruns")


@pytest.fixture
def reg(root):
    return FileRegistryStore(root)


def _yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def _read(path):
    with open(path) as f:
        return f.read()


def test_layout_matches_mlflow(reg, root):
    reg.create_registered_model("Demo", [RunTag("team", "a"), RunTag("deep/key", "x")], "d")
    reg.create_model_version("Demo", "runs:/abc/model", "abc", [RunTag("t", "v")])
    reg.create_model_version("Demo", "runs:/abc/model", "abc")
    reg.set_registered_model_alias("Demo", "champ", "1")
    reg.delete_model_version("Demo", "2")
    model_dir = os.path.join(root, "models", "Demo")
    meta = _yaml(os.path.join(model_dir, "meta.yaml"))
    assert set(meta) == {"aliases", "creation_timestamp", "deployment_job_id",
                         "deployment_job_state", "description", "last_updated_timestamp",
                         "name", "workspace"}
    assert meta["aliases"] == {"champ": "1"} and meta["name"] == "Demo"
    assert meta["description"] == "d"
    assert _read(os.path.join(model_dir, "tags", "team")) == "a"
    assert _read(os.path.join(model_dir, "tags", "deep", "key")) == "x"
    assert _read(os.path.join(model_dir, "aliases", "champ")) == "1"
    v1 = _yaml(os.path.join(model_dir, "version-1", "meta.yaml"))
    assert v1["version"] == 1 and v1["current_stage"] == "None" and v1["status"] == "READY"
    assert v1["source"] == "runs:/abc/model" and v1["run_id"] == "abc"
    assert {"storage_location", "model_id", "workspace", "deployment_job_state"} <= set(v1)
    assert _read(os.path.join(model_dir, "version-1", "tags", "t")) == "v"
    v2 = _yaml(os.path.join(model_dir, "version-2", "meta.yaml"))
    assert v2["current_stage"] == "Deleted_Internal"  # the tombstone stays
    assert [v.version for v in reg.search_model_versions()] == ["1"]
    assert {mv.version for mv in reg.get_latest_versions("Demo")} == {"1"}


def test_download_uri_resolves_runs_and_logged_models(reg, root):
    tracking = FileTrackingStore(root)
    run = tracking.create_run("0", "u", 1, [], "r")
    exp = tracking.get_experiment("0")
    logged = tracking.create_logged_model("0", name="m", source_run_id=run.info.run_id)
    reg.create_registered_model("R")
    from_run = reg.create_model_version("R", f"runs:/{run.info.run_id}/model")
    assert from_run.run_id == run.info.run_id
    assert reg.get_model_version_download_uri("R", "1") == run.info.artifact_uri + "/model"
    from_model = reg.create_model_version("R", f"models:/{logged.model_id}")
    assert from_model.model_id == logged.model_id
    assert from_model.run_id == run.info.run_id
    assert reg.get_model_version_download_uri("R", "2") == logged.artifact_location
    copied = reg.create_model_version("R", "models:/R/1")
    assert reg.get_model_version_download_uri("R", copied.version) == (
        run.info.artifact_uri + "/model")
    plain = reg.create_model_version("R", exp.artifact_location + "/x")
    assert reg.get_model_version_download_uri("R", plain.version) == (
        exp.artifact_location + "/x")
    with pytest.raises(SkiffException) as err:
        reg.create_model_version("R", "models:/m-" + "0" * 32)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(SkiffException):
        reg.create_model_version("R", "")


def test_mlflow3_kept_runs_uri_is_resolved_on_read(reg, root):
    tracking = FileTrackingStore(root)
    run = tracking.create_run("0", "u", 1, [], "r")
    reg.create_registered_model("K")
    reg.create_model_version("K", "runs:/nope/m")
    path = os.path.join(root, "models", "K", "version-1", "meta.yaml")
    meta = _yaml(path)
    meta["storage_location"] = f"runs:/{run.info.run_id}/m"  # as MLflow 3 writes it
    with open(path, "w") as f:
        yaml.safe_dump(meta, f)
    assert reg.get_model_version_download_uri("K", "1") == run.info.artifact_uri + "/m"


def test_delete_is_all_or_nothing_and_sweeps_leftovers(reg, root):
    reg.create_registered_model("D", [RunTag("a", "1")])
    reg.create_model_version("D", "runs:/r/m")
    reg.set_registered_model_alias("D", "x", "1")
    reg.delete_registered_model("D")
    assert os.listdir(os.path.join(root, "models")) == []
    # a crash after the rename leaves a hidden directory that listings skip and sweep
    leftover = os.path.join(root, "models", ".skiff-deleting-abc", "version-1")
    os.makedirs(leftover)
    assert list(reg.search_registered_models()) == []
    assert os.listdir(os.path.join(root, "models")) == []
    with pytest.raises(SkiffException) as err:
        reg.delete_registered_model("D")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_rename_keeps_tags_aliases_and_versions(reg, root):
    reg.create_registered_model("a", [RunTag("k", "v")])
    reg.create_model_version("a", "runs:/r/m", tags=[RunTag("vt", "1")])
    reg.set_registered_model_alias("a", "best", "1")
    reg.rename_registered_model("a", "b")
    got = reg.get_registered_model("b")
    assert got.tags == {"k": "v"} and got.aliases == {"best": "1"}
    mv = reg.get_model_version_by_alias("b", "best")
    assert mv.name == "b" and mv.tags == {"vt": "1"}
    assert _yaml(os.path.join(root, "models", "b", "version-1", "meta.yaml"))["name"] == "b"
    assert not os.path.exists(os.path.join(root, "models", "a"))


def test_bad_input(reg):
    reg.create_registered_model("m")
    reg.create_model_version("m", "runs:/r/m")
    for bad in ("..", ".hidden", "a%b", "a\\b"):
        with pytest.raises(SkiffException) as err:
            reg.create_registered_model(bad)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(SkiffException) as err:
        reg.get_model_version("m", "x")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(SkiffException) as err:
        reg.get_model_version("m", "7")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(SkiffException) as err:
        reg.transition_model_version_stage("m", "1", "Archived", True)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(SkiffException) as err:
        reg.set_registered_model_alias("m", "ok", "9")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(SkiffException) as err:
        reg.set_registered_model_tag("m", RunTag("../x", "1"))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    for kwargs in ({"max_results": 0}, {"max_results": 1001}, {"page_token": "!!"}):
        with pytest.raises(SkiffException) as err:
            reg.search_registered_models(**kwargs)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(SkiffException):
        reg.search_registered_models("run_id = 'x'")
    assert reg.get_model_version_by_alias("m", "latest").version == "1"


def test_search_versions_orders_numerically_and_pages(reg):
    reg.create_registered_model("n")
    for _ in range(11):
        reg.create_model_version("n", "runs:/r/m")
    ordered = reg.search_model_versions("name = 'n'", order_by=["version_number DESC"])
    assert [v.version for v in ordered][:3] == ["11", "10", "9"]
    found = reg.search_model_versions("version_number >= 10")
    assert sorted(v.version for v in found) == ["10", "11"]
    page = reg.search_model_versions(max_results=5, order_by=["version_number"])
    rest = reg.search_model_versions(max_results=50, order_by=["version_number"],
                                     page_token=page.token)
    assert [v.version for v in page] + [v.version for v in rest] == [
        str(i) for i in range(1, 12)]
    assert reg.search_model_versions("name = 'absent'") == []


def test_prompts_are_hidden_from_searches(reg):
    reg.create_registered_model("p", [RunTag("mlflow.prompt.is_prompt", "true")])
    reg.create_registered_model("q")
    assert [m.name for m in reg.search_registered_models()] == ["q"]
    found = reg.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'")
    assert [m.name for m in found] == ["p"]


def test_concurrent_versions_are_unique(reg, root):
    reg.create_registered_model("c")
    stores = [FileRegistryStore(root) for _ in range(4)]
    made, errors = [], []

    def work(store):
        try:
            for _ in range(10):
                made.append(store.create_model_version("c", "runs:/r/m").version)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(int(v) for v in made) == list(range(1, 41))


def test_client_end_to_end(tmp_path, monkeypatch):
    import skiff
    from skiff.tracking._stores import clear_store_cache

    monkeypatch.chdir(tmp_path)
    clear_store_cache()
    client = skiff.Client("./mlruns")
    client.create_registered_model("e2e", tags={"a": 1}, description="hello")
    run = client.create_run("0")
    mv = client.create_model_version("e2e", f"runs:/{run.info.run_id}/model",
                                     run.info.run_id)
    assert mv.version == "1"
    client.set_registered_model_alias("e2e", "prod", 1)
    client.transition_model_version_stage("e2e", 1, "Staging")
    client.set_model_version_tag("e2e", stage="Staging", key="k", value="v")
    got = client.get_model_version_by_alias("e2e", "prod")
    assert got.current_stage == "Staging" and got.tags == {"k": "v"}
    assert client.get_model_version_download_uri("e2e", 1) == (
        run.info.artifact_uri + "/model")
    assert [m.name for m in client.search_registered_models()] == ["e2e"]
    assert os.path.isfile(tmp_path / "mlruns" / "models" / "e2e" / "version-1" / "meta.yaml")
    client.delete_registered_model("e2e")
    assert client.search_registered_models() == []
    clear_store_cache()


def test_registry_only_folder_gets_no_tracking_files(tmp_path):
    root = tmp_path / "registry-only"
    reg = FileRegistryStore(str(root), tracking_uri=str(tmp_path / "elsewhere"))
    tracking = FileTrackingStore(str(tmp_path / "elsewhere"))
    run = tracking.create_run("0", "u", 1, [], "r")
    reg.create_registered_model("m")
    reg.create_model_version("m", f"runs:/{run.info.run_id}/model")
    assert sorted(os.listdir(root)) == ["models"]
    assert reg.get_model_version_download_uri("m", "1") == run.info.artifact_uri + "/model"
