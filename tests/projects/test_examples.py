"""Every example under examples/ runs and logs what it says it does."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import skiff
from skiff import projects
from skiff.tracking.client import Client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_sklearn_elasticnet():
    submitted = projects.run(str(EXAMPLES / "sklearn_elasticnet"),
                             parameters={"alpha": "0.3", "l1_ratio": "0.7"},
                             env_manager="local")
    run = skiff.get_run(submitted.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"alpha": "0.3", "l1_ratio": "0.7"}
    assert set(run.data.metrics) >= {"rmse", "mae", "r2"}
    assert 30 < run.data.metrics["rmse"] < 120
    from skiff.artifacts.download import load_dict

    coefficients = load_dict(f"runs:/{run.info.run_id}/model/coefficients.json")
    assert len(coefficients["coef"]) == 10  # the diabetes dataset's features


def test_sklearn_elasticnet_in_its_python_env_with_the_mlflow_client(env_root):
    """The project's own python_env.yaml (scikit-learn, mlflow-skinny; no Skiff): the real
    MLflow client logs into the run."""
    submitted = projects.run(str(EXAMPLES / "sklearn_elasticnet"),
                             parameters={"alpha": "0.2", "l1_ratio": "0.4"}, env_manager="uv")
    run = skiff.get_run(submitted.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.project.env"] == "uv"
    assert run.data.params == {"alpha": "0.2", "l1_ratio": "0.4"}
    assert set(run.data.metrics) >= {"rmse", "mae", "r2"}
    assert [f.path for f in Client().list_artifacts(run.info.run_id, "model")] == [
        "model/coefficients.json"]


def test_hyperparameter_search_logs_the_best_child_on_the_parent():
    submitted = projects.run(str(EXAMPLES / "hyperparam"),
                             parameters={"max_runs": "4", "max_parallel": "2"},
                             env_manager="local")
    parent = skiff.get_run(submitted.run_id)
    assert parent.info.status == "FINISHED"
    children = Client().search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert len(children) == 4
    assert all(c.info.status == "FINISHED" for c in children)
    assert all(c.data.tags["mlflow.project.entryPoint"] == "train" for c in children)
    best = min(children, key=lambda c: c.data.metrics["val_rmse"])
    assert parent.data.tags["best_run_id"] == best.info.run_id
    assert parent.data.metrics["best_val_rmse"] == best.data.metrics["val_rmse"]
    assert parent.data.params["best_alpha"] == best.data.params["alpha"]


def test_multistep_workflow_passes_runs_uris_and_reuses_finished_steps():
    uri = str(EXAMPLES / "multistep")
    first = projects.run(uri, env_manager="local")
    client = Client()

    def step_runs():
        return [r for r in client.search_runs(["0"])
                if r.data.tags["mlflow.project.entryPoint"] != "main"]

    steps = step_runs()
    assert sorted(r.data.tags["mlflow.project.entryPoint"] for r in steps) == [
        "etl_data", "load_raw_data", "train"]
    tags = skiff.get_run(first.run_id).data.tags
    etl = client.get_run(tags["step.etl_data"])
    assert etl.data.params["raw_data"] == (
        f"runs:/{tags['step.load_raw_data']}/raw/diabetes.csv")
    train = client.get_run(tags["step.train"])
    assert train.data.params["data"] == f"runs:/{etl.info.run_id}/processed/diabetes.csv"
    assert etl.data.metrics["rows"] == 442
    assert skiff.get_run(first.run_id).data.metrics["rmse"] == train.data.metrics["rmse"]

    second = projects.run(uri, env_manager="local")
    assert len(step_runs()) == 3  # every step was reused
    again = skiff.get_run(second.run_id).data.tags
    assert [again[k] for k in ("step.load_raw_data", "step.etl_data", "step.train")] == [
        tags[k] for k in ("step.load_raw_data", "step.etl_data", "step.train")]

    third = projects.run(uri, parameters={"alpha": "0.5"}, env_manager="local")
    assert len(step_runs()) == 4  # only train runs again for a new alpha
    assert skiff.get_run(third.run_id).data.tags["step.etl_data"] == etl.info.run_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def skiff_server(tmp_path):
    pytest.importorskip("skiff_server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKIFF_", "MLFLOW_"))}
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "skiff.cli", "server", "--host", "127.0.0.1", "--port",
         str(port), "--backend-store-uri", str(tmp_path / "server-store"),
         "--artifacts-destination", str(tmp_path / "server-artifacts"), "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise AssertionError("skiff server did not start:\n"
                                 + (tmp_path / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_rest_api_example_against_skiff_server(skiff_server):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "rest_api" / "rest_client.py"), "--tracking-uri",
         skiff_server, "--experiment-name", "rest-example"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "FINISHED"
    assert summary["params"] == {"alpha": "0.5", "l1_ratio": "0.1"}
    assert summary["metrics"] == {"rmse": pytest.approx(0.7), "r2": 0.42}
    assert summary["tags"] == {"source": "rest", "stage": "demo", "reviewed": "yes"}
    assert summary["rmse_history"] == [[0, 0.9], [1, 0.8], [2, pytest.approx(0.7)]]
    assert summary["search_hits"] == [summary["run_id"]]
