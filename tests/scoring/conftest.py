"""An iris LogisticRegression saved with skiff.sklearn, and `skiff models serve` run as a
real subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests


@pytest.fixture(scope="session")
def iris(tmp_path_factory):
    """(model directory, feature frame, the estimator's own predictions)."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import LogisticRegression

    import skiff.sklearn

    X, y = sklearn_datasets.load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    path = str(tmp_path_factory.mktemp("iris") / "model")
    skiff.sklearn.save_model(model, path, input_example=X.head(3))
    return path, X, model.predict(X).tolist()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def skiff_cli(*args) -> list[str]:
    return [sys.executable, "-m", "skiff.cli", *args]


class Server:
    def __init__(self, proc: subprocess.Popen, url: str, started_in: float):
        self.proc, self.url, self.started_in = proc, url, started_in

    def post(self, payload=None, data=None, content_type="application/json"):
        return requests.post(f"{self.url}/invocations", json=payload, data=data,
                             headers={"Content-Type": content_type}, timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


def start_server(model_dir: str, log_dir, *extra) -> Server:
    """`skiff models serve` on a free port, once /ping answers 200."""
    port = free_port()
    log_path = os.path.join(str(log_dir), f"serve-{port}.log")
    begin = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            skiff_cli("models", "serve", "-m", model_dir, "-p", str(port),
                      "--env-manager", "local", *extra),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", 0.0)
    while True:
        try:
            if requests.get(f"{server.url}/ping", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {open(log_path).read()}")
        if time.perf_counter() - begin > 90:
            server.stop()
            raise AssertionError("the server did not answer /ping within 90 s")
        time.sleep(0.02)
    server.started_in = time.perf_counter() - begin
    return server


@pytest.fixture
def serve(tmp_path):
    """serve(model_dir, *extra_args) -> Server, stopped at the end of the test."""
    servers = []

    def start(model_dir, *extra):
        servers.append(start_server(model_dir, tmp_path, *extra))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
