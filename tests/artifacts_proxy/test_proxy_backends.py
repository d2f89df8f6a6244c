"""A real ``skiff server --artifacts-destination <local | s3:// | gs:// | wasbs://>`` serving
``mlflow-artifacts:/`` to Skiff's client and to MLflow 3.17.2's, neither of which holds any
cloud credential or endpoint (only the server's environment does): log (including a file
that MLflow's client sends through the proxied multipart routes), list, download, delete;
and the same through ``--artifacts-only``."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
import requests
from _proxy import BIG, CLIENT_PART, SERVER_PART, make_payload

PROXY = "/api/2.0/mlflow-artifacts"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _expected_tree(files: dict) -> dict:
    return {rel[len("tree/"):]: _sha(data) for rel, data in files.items()
            if rel.startswith("tree/")}


def _parts(size: int, part: int) -> int:
    return -(-size // part)


def _skiff_round_trip(repo, payload, files, tmp_path) -> None:
    """Log, list, download and delete through a Skiff repository over the proxy."""
    repo.log_artifact(str(payload / "notes.txt"))
    repo.log_artifacts(str(payload / "tree"), "tree")
    repo.log_artifact(str(payload / "model" / "weights.bin"), "model")
    assert [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()] == [
        ("model", True, None), ("notes.txt", False, 12), ("tree", True, None)]
    assert [(f.path, f.file_size) for f in repo.list_artifacts("model")] == [
        ("model/weights.bin", BIG)]
    assert {f.path for f in repo.list_artifacts("tree")} == {"tree/a.json", "tree/sub"}
    out = repo.download_artifacts("model/weights.bin", str(tmp_path / "dl"))
    assert _sha(open(out, "rb").read()) == _sha(files["model/weights.bin"])
    tree = repo.download_artifacts("tree", str(tmp_path / "dl"))
    got = {os.path.relpath(os.path.join(d, n), tree): _sha(open(os.path.join(d, n), "rb").read())
           for d, _, names in os.walk(tree) for n in names}
    assert got == _expected_tree(files)
    repo.delete_artifacts("tree")
    assert [f.path for f in repo.list_artifacts()] == ["model", "notes.txt"]


@pytest.fixture
def payload(tmp_path):
    root = tmp_path / "payload"
    return root, make_payload(root, BIG)


def test_skiff_client(proxy_server, destination, payload, tmp_path, no_cloud_credentials):
    import skiff
    from skiff.artifacts.resolve import get_artifact_repository

    root, files = payload
    (tmp_path / "dl").mkdir()
    skiff.set_tracking_uri(proxy_server.url)
    client = skiff.Client()
    experiment_id = client.create_experiment(f"skiff-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    _skiff_round_trip(get_artifact_repository(run.info.artifact_uri), root, files, tmp_path)
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["model", "notes.txt"]

    under = f"{experiment_id}/{run.info.run_id}/artifacts"
    assert destination.keys(under) == [f"{under}/model/weights.bin", f"{under}/notes.txt"]
    # Skiff's client streams one PUT; the server wrote it in parts of its own size.
    expected = {"s3": _parts(BIG, SERVER_PART), "azure": _parts(BIG, SERVER_PART)}
    assert destination.parts(f"{under}/model/weights.bin") == expected.get(destination.name)


def test_mlflow_client(proxy_server, destination, payload, run_mlflow_client):
    root, files = payload
    out = run_mlflow_client(root, "tracking", proxy_server.url)
    assert out["artifact_uri"].startswith("mlflow-artifacts:/")
    assert out["root"] == [["model", True, None], ["notes.txt", False, 12],
                           ["tree", True, None]]
    assert out["model"] == [["model/weights.bin", False, BIG]]
    assert out["weights"] == _sha(files["model/weights.bin"])
    assert out["tree_files"] == _expected_tree(files)
    assert out["notes"] == "hello proxy\n"
    assert [p for p, *_ in out["root_after_delete"]] == ["model", "notes.txt"]

    under = f"{out['experiment_id']}/{out['run_id']}/artifacts"
    assert destination.keys(under) == [f"{under}/model/weights.bin", f"{under}/notes.txt"]
    _check_client_multipart(proxy_server, destination, f"{under}/model/weights.bin", under)


def _check_client_multipart(server, destination, key: str, directory: str) -> None:
    """MLflow's client used the proxied multipart routes and sent its own 5 MiB parts
    straight to the store; over a local destination the server said 501 and the client
    fell back to one PUT."""
    created = server.requests_to(f"POST {PROXY}/mpu/create/{directory}/model ")
    completed = server.requests_to(f"POST {PROXY}/mpu/complete/{directory}/model ")
    put = server.requests_to(f"PUT {PROXY}/artifacts/{directory}/model/weights.bin ")
    if destination.name == "local":
        assert [line.split('" ')[1][:3] for line in created] == ["501"] and put
        return
    assert created and completed and not put, server.log()
    parts = destination.parts(key)
    if destination.name != "gcs" or parts is not None:  # the GCS emulator does not say
        assert parts == _parts(BIG, CLIENT_PART)
    assert destination.leftovers() == []


def test_multipart_capability_and_refusal(proxy_server, destination):
    info = requests.get(f"{proxy_server.url}/api/3.0/mlflow/server-info", timeout=10).json()
    assert info["multipart_uploads_enabled"] is (destination.name != "local")
    response = requests.post(f"{proxy_server.url}{PROXY}/mpu/create/x",
                             json={"path": "/tmp/f.bin", "num_parts": 2}, timeout=10)
    if destination.name == "local":
        assert response.status_code == 501
        assert response.json()["error_code"] == "NOT_IMPLEMENTED"
        assert response.json()["message"].startswith(
            "Multipart upload is not supported for the current artifact repository")
        return
    created = response.json()
    assert len(created["credentials"]) == 2
    aborted = requests.post(f"{proxy_server.url}{PROXY}/mpu/abort/x",
                            json={"path": "/tmp/f.bin", "upload_id": created["upload_id"]},
                            timeout=10)
    assert aborted.status_code == 200
    assert destination.keys("x") == []


def test_artifacts_only(artifacts_only_server, destination, payload, tmp_path,
                        run_mlflow_client, no_cloud_credentials):
    from skiff.artifacts.resolve import get_artifact_repository

    root, files = payload
    (tmp_path / "dl").mkdir()
    server = artifacts_only_server
    tag = uuid.uuid4().hex[:8]
    # Tracking routes are off; the proxy answers.
    assert requests.get(f"{server.url}/api/2.0/mlflow/experiments/search",
                        timeout=10).status_code == 503
    repo = get_artifact_repository(f"mlflow-artifacts://127.0.0.1:{server.port}/only-{tag}")
    _skiff_round_trip(repo, root, files, tmp_path)

    out = run_mlflow_client(root, f"{server.url}{PROXY}/artifacts/mlflow-{tag}", server.url)
    assert out["model"] == [["model/weights.bin", False, BIG]]
    assert out["weights"] == _sha(files["model/weights.bin"])
    assert out["tree_files"] == _expected_tree(files)
    assert [p for p, *_ in out["root_after_delete"]] == ["model", "notes.txt"]
    assert destination.keys(f"mlflow-{tag}") == [f"mlflow-{tag}/model/weights.bin",
                                                  f"mlflow-{tag}/notes.txt"]
    _check_client_multipart(server, destination, f"mlflow-{tag}/model/weights.bin",
                            f"mlflow-{tag}")
