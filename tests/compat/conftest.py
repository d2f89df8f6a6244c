"""Fixtures for the compatibility tests: a real ``skiff server`` subprocess, a real
``mlflow server`` subprocess, and real MLflow clients in their own virtualenvs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCRIPTS = HERE / "scripts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(self, args, cwd, env, port, log_path):
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log_path).read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server not healthy in {timeout}s: "
                           f"{Path(self.log_path).read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "SKIFF_", "_SKIFF_", "_MLFLOW_"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def skiff_server(tmp_path_factory):
    """A real ``skiff server`` on a free port over the file store."""
    root = tmp_path_factory.mktemp("skiff-server")
    port = free_port()
    common = ["server", "--port", str(port), "--artifacts-destination",
              str(root / "mlartifacts")]
    args = [sys.executable, "-m", "skiff.cli", *common, "--backend-store-uri",
            str(root / "mlruns")]
    server = ServerProcess(args, root, clean_env(), port, root / "server.log")
    server.wait_healthy(30)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real ``mlflow server`` 3.17.2 (full package, own venv) over SQLite."""
    from skiff.testing.venvs import ensure_venv

    python = ensure_venv("mlflow3-server", ["mlflow==3.17.2"])
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    args = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination", str(root / "mlartifacts"), "--workers", "1"]
    server = ServerProcess(args, root, clean_env(), port, root / "server.log")
    server.wait_healthy(300)  # MLflow 3.x takes a minute or more to start here
    yield server
    server.stop()


@pytest.fixture
def run_client():
    return _run_client


def _run_client(python, script: str, tracking_uri: str, timeout: float = 300) -> dict:
    """Run one of ``scripts/`` with a real MLflow client; returns its JSON output."""
    import uuid

    env = clean_env(MLFLOW_TRACKING_URI=tracking_uri, MLFLOW_ALLOW_FILE_STORE="true",
                    COMPAT_SUFFIX=uuid.uuid4().hex[:8],
                    MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", GIT_PYTHON_REFRESH="quiet")
    result = subprocess.run([str(python), str(SCRIPTS / script)], env=env, capture_output=True,
                            text=True, timeout=timeout, cwd=SCRIPTS)
    assert result.returncode == 0, result.stderr[-6000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
