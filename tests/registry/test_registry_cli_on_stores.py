"""``skiff registered-models`` / ``skiff model-versions`` on every registry store: the file
store (./mlruns), the SQL store (SQLite) and a real ``skiff server`` (REST), with models
registered from real runs so the lineage (run, source, download URI) is the store's own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

import skiff


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """A real ``skiff server`` over SQLite with the artifact proxy, one worker."""
    root = tmp_path_factory.mktemp("registry-cli-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKIFF_", "MLFLOW_"))}
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "skiff.cli", "server", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
         "--artifacts-destination", str(root / "mlartifacts")],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "skiff server did not start"
                time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        log.close()


@pytest.fixture(params=["file", "sqlite", "server"])
def tracking_uri(request, tmp_path, monkeypatch):
    uri = {"file": lambda: str(tmp_path / "mlruns"),
           "sqlite": lambda: f"sqlite:///{tmp_path / 'skiff.db'}",
           "server": lambda: request.getfixturevalue("server_url")}[request.param]()
    monkeypatch.setenv("SKIFF_TRACKING_URI", uri)
    return uri


@pytest.fixture
def registered(tracking_uri, tmp_path):
    """Model 'fraud': v1 (alias champion, tagged) and v2 (Production) from two runs."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"w")
    client = skiff.Client()
    run_ids = []
    for _ in range(2):
        with skiff.start_run() as run:
            skiff.log_artifacts(str(tmp_path / "model"), "model")
        run_ids.append(run.info.run_id)
    client.create_registered_model("fraud", tags={"team": "risk"}, description="Flags fraud")
    client.create_model_version("fraud", f"runs:/{run_ids[0]}/model", run_ids[0],
                                tags={"auc": "0.91"})
    client.create_model_version("fraud", f"runs:/{run_ids[1]}/model", run_ids[1],
                                run_link="http://ui/runs/2")
    client.set_registered_model_alias("fraud", "champion", "1")
    client.transition_model_version_stage("fraud", "2", "Production")
    client.create_registered_model("churn")
    yield run_ids
    for name in ("fraud", "churn"):  # the server outlives the test
        client.delete_registered_model(name)


def _cli(*args):
    from skiff.cli import build_cli

    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    return result


def test_lineage_of_a_registered_model(registered):
    run1, run2 = registered
    out = _cli("registered-models", "list").stdout.splitlines()
    assert [line.split()[0] for line in out[2:]] == ["churn", "fraud"]
    assert out[3].split()[:4] == ["fraud", "2", "champion=1", "team=risk"]
    model = _cli("registered-models", "get", "-n", "fraud").stdout
    assert "Aliases:      champion -> 1" in model and "Versions (2):" in model
    assert run1 in model and run2 in model
    version = _cli("model-versions", "get", "-n", "fraud", "-v", "2").stdout
    assert f"Run ID:       {run2}" in version
    assert f"Source:       runs:/{run2}/model" in version
    assert "Run link:     http://ui/runs/2" in version and "Stage:        Production" in version
    champion = json.loads(_cli("model-versions", "get", "-n", "fraud", "-a", "champion",
                               "--json").stdout)["model_version"]
    assert champion["run_id"] == run1 and champion["tags"] == [{"key": "auc", "value": "0.91"}]
    uri = _cli("model-versions", "download-uri", "-n", "fraud", "-v", "1").stdout.strip()
    assert run1 in uri and uri.endswith("model")
    listed = json.loads(_cli("model-versions", "list", "-n", "fraud", "--filter",
                             "tags.auc = '0.91'", "--json").stdout)
    assert [mv["version"] for mv in listed["model_versions"]] == ["1"]


def test_unknown_names_and_versions_fail_on_one_line(registered):
    for args in (["registered-models", "get", "-n", "nope"],
                 ["model-versions", "get", "-n", "fraud", "-v", "7"],
                 ["model-versions", "download-uri", "-n", "nope", "-v", "1"]):
        result = _cli(*args)
        assert result.exit_code == 1, result.output
        assert len(result.stderr.splitlines()) == 1 and "not found" in result.stderr


def test_the_installed_command(registered):
    """The ``skiff`` executable itself, as a user runs it (environment variables only)."""
    done = subprocess.run([sys.executable, "-m", "skiff.cli", "model-versions", "list",
                           "--name", "fraud"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [line.split()[:3] for line in done.stdout.splitlines()[2:]] == [
        ["fraud", "2", "Production"], ["fraud", "1", "None"]]
