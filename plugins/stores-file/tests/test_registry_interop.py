"""The file model registry, both ways with the real MLflow client (3.17 and 2.22): MLflow
registers models, versions, aliases, tags and stages that Skiff reads, and reads (and
extends) what Skiff registered. Registry URI = tracking URI = the mlruns folder."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from skiff.entities import RunTag
from skiff.errors import SkiffException
from skiff.testing.venvs import MLFLOW_2, MLFLOW_3, ensure_venv
from skiff_stores_file._registry import FileRegistryStore
from skiff_stores_file.store import FileTrackingStore

MLFLOW_READS_SKIFF = """
client = MlflowClient()
rm = client.get_registered_model("skiff-model")
out["rm"] = {"tags": rm.tags, "aliases": rm.aliases, "description": rm.description,
             "latest": sorted((str(v.version), v.current_stage) for v in rm.latest_versions)}
mv = client.get_model_version("skiff-model", "1")
out["mv1"] = {"source": mv.source, "run_id": mv.run_id, "tags": mv.tags,
              "stage": mv.current_stage, "aliases": list(mv.aliases),
              "run_link": mv.run_link, "description": mv.description}
out["by_alias"] = str(client.get_model_version_by_alias("skiff-model", "champion").version)
out["uri"] = client.get_model_version_download_uri("skiff-model", "1")
try:
    client.get_model_version("skiff-model", "3")
    out["deleted_visible"] = True
except Exception:
    out["deleted_visible"] = False
out["search_rm"] = [m.name for m in client.search_registered_models("tags.team = 'nlp'")]
out["search_mv"] = sorted(str(v.version) for v in client.search_model_versions(
    "name = 'skiff-model'"))
out["renamed"] = client.get_registered_model("renamed").name
out["renamed_v"] = client.get_model_version("renamed", "1").name
out["prod"] = [str(v.version) for v in client.get_latest_versions("skiff-model", ["Production"])]
# MLflow extends what Skiff wrote: the next number skips the tombstone
out["next"] = str(client.create_model_version("skiff-model", "runs:/abc/model", "abc").version)
client.set_registered_model_alias("skiff-model", "mlflow-alias", out["next"])
client.set_model_version_tag("skiff-model", out["next"], "from", "mlflow")
"""

MLFLOW_WRITES = """
client = MlflowClient()
mlflow.set_experiment("reg")
with mlflow.start_run() as run:
    mlflow.log_text("flavors: {}", "model/MLmodel")
rid = run.info.run_id
out["run_id"] = rid
client.create_registered_model("ml-model", tags={"team": "cv"}, description="by mlflow")
for _ in range(3):
    client.create_model_version("ml-model", f"runs:/{rid}/model", rid, tags={"t": "1"},
                                description="v")
client.set_registered_model_alias("ml-model", "champion", "2")
client.transition_model_version_stage("ml-model", "1", "Production")
client.transition_model_version_stage("ml-model", "2", "Production",
                                      archive_existing_versions=True)
client.set_model_version_tag("ml-model", "2", "quality", "good")
client.delete_model_version("ml-model", "3")
client.create_registered_model("doomed")
client.create_model_version("doomed", f"runs:/{rid}/model", rid)
client.delete_registered_model("doomed")
client.update_registered_model("ml-model", "changed")
if hasattr(client, "create_logged_model"):
    exp = mlflow.get_experiment_by_name("reg").experiment_id
    lm = client.create_logged_model(exp, name="lm", source_run_id=rid)
    out["model_id"] = lm.model_id
    mv = client.create_model_version("ml-model", f"models:/{lm.model_id}", model_id=lm.model_id)
    out["lm_version"] = mv.version
"""


def _run_mlflow(python, skiff_root: str, mlflow_root: str) -> dict:
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true",
           "GIT_PYTHON_REFRESH": "quiet", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    env.pop("MLFLOW_REGISTRY_URI", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    script = "import json, mlflow\nfrom mlflow import MlflowClient\nout = {}\nresults = {}\n"
    for root, body, key in ((skiff_root, MLFLOW_READS_SKIFF, "read"),
                            (mlflow_root, MLFLOW_WRITES, "wrote")):
        script += (f"mlflow.set_tracking_uri({root!r})\nmlflow.set_registry_uri({root!r})\n"
                   + textwrap.dedent(body) + f"results[{key!r}] = out\nout = {{}}\n")
    script += "print(json.dumps(results))\n"
    done = subprocess.run([str(python), "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mlflow3():
    return ensure_venv("mlflow3", [MLFLOW_3])


@pytest.fixture(scope="module")
def mlflow2():
    return ensure_venv("mlflow2", [MLFLOW_2])


def _skiff_registers(root: str) -> dict:
    tracking = FileTrackingStore(root)
    run = tracking.create_run("0", "bob", 1000, [], "train")
    reg = FileRegistryStore(root)
    reg.create_registered_model("skiff-model", [RunTag("team", "nlp")], "by skiff")
    source = f"runs:/{run.info.run_id}/model"
    for _ in range(3):
        reg.create_model_version("skiff-model", source, run.info.run_id,
                                 [RunTag("k", "v")], "http://link", "first")
    reg.transition_model_version_stage("skiff-model", "1", "Production", False)
    reg.transition_model_version_stage("skiff-model", "2", "Staging", False)
    reg.set_registered_model_alias("skiff-model", "champion", "1")
    reg.delete_model_version("skiff-model", "3")
    reg.create_registered_model("other")
    reg.create_model_version("other", source)
    reg.rename_registered_model("other", "renamed")
    return {"run_id": run.info.run_id, "artifact_uri": run.info.artifact_uri}


def _check_mlflow_read(read: dict, wrote: dict) -> None:
    assert read["rm"] == {"tags": {"team": "nlp"}, "aliases": {"champion": "1"},
                          "description": "by skiff",
                          "latest": [["1", "Production"], ["2", "Staging"]]}
    assert read["mv1"] == {"source": f"runs:/{wrote['run_id']}/model",
                           "run_id": wrote["run_id"], "tags": {"k": "v"},
                           "stage": "Production", "aliases": ["champion"],
                           "run_link": "http://link", "description": "first"}
    assert read["by_alias"] == "1"
    assert read["uri"] == wrote["artifact_uri"] + "/model"
    assert read["deleted_visible"] is False
    assert read["search_rm"] == ["skiff-model"]
    assert read["search_mv"] == ["1", "2"]
    assert read["renamed"] == "renamed" and read["renamed_v"] == "renamed"
    assert read["prod"] == ["1"]
    assert read["next"] == "4"


def _check_skiff_reads_its_model_extended(root: str) -> None:
    reg = FileRegistryStore(root)
    assert reg.get_model_version_by_alias("skiff-model", "mlflow-alias").version == "4"
    assert reg.get_model_version("skiff-model", "4").tags == {"from": "mlflow"}
    assert reg.get_registered_model("skiff-model").aliases == {
        "champion": "1", "mlflow-alias": "4"}
    assert reg.create_model_version("skiff-model", "runs:/x/m").version == "5"


def _check_skiff_reads(root: str, wrote: dict) -> None:
    reg = FileRegistryStore(root)
    tracking = FileTrackingStore(root)
    run = tracking.get_run(wrote["run_id"])
    rm = reg.get_registered_model("ml-model")
    assert rm.tags == {"team": "cv"} and rm.description == "changed"
    assert rm.aliases == {"champion": "2"}
    assert {(v.version, v.current_stage) for v in rm.latest_versions} >= {
        ("1", "Archived"), ("2", "Production")}
    mv = reg.get_model_version_by_alias("ml-model", "champion")
    assert mv.version == "2" and mv.tags == {"t": "1", "quality": "good"}
    assert mv.run_id == wrote["run_id"] and mv.aliases == ["champion"]
    assert mv.description == "v" and mv.status == "READY"
    for missing in (lambda: reg.get_model_version("ml-model", "3"),
                    lambda: reg.get_registered_model("doomed")):
        with pytest.raises(SkiffException) as err:
            missing()
        assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert reg.get_model_version_download_uri("ml-model", "1") == run.info.artifact_uri + "/model"
    found = reg.search_model_versions("name = 'ml-model' and tags.quality = 'good'")
    assert [v.version for v in found] == ["2"]
    assert [m.name for m in reg.search_registered_models("name LIKE 'ml-%'")] == ["ml-model"]
    if "model_id" in wrote:
        lm = tracking.get_logged_model(wrote["model_id"])
        version = reg.get_model_version("ml-model", wrote["lm_version"])
        assert version.model_id == wrote["model_id"]
        assert reg.get_model_version_download_uri("ml-model", version.version) == (
            lm.artifact_location)
    # Skiff keeps going where MLflow stopped
    nxt = reg.create_model_version("ml-model", f"runs:/{wrote['run_id']}/model")
    assert int(nxt.version) == (5 if "model_id" in wrote else 4)


@pytest.mark.parametrize("version", ["mlflow3", "mlflow2"])
def test_registry_interop_both_ways(tmp_path, version, request):
    python = request.getfixturevalue(version)
    skiff_root, mlflow_root = str(tmp_path / "by-skiff"), str(tmp_path / "by-mlflow")
    wrote_by_skiff = _skiff_registers(skiff_root)
    results = _run_mlflow(python, skiff_root, mlflow_root)
    _check_mlflow_read(results["read"], wrote_by_skiff)
    _check_skiff_reads_its_model_extended(skiff_root)
    _check_skiff_reads(mlflow_root, results["wrote"])
