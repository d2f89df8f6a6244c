"""``skiff server`` / ``skiff ui`` as real processes (gunicorn), and their options."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, proc, timeout: float = 30.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert proc.poll() is None, proc.stdout.read().decode()
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.01)
    raise AssertionError(f"{url} not healthy in {timeout}s")


@pytest.fixture
def start_server(tmp_path):
    procs = []

    def start(*args):
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SKIFF_", "MLFLOW_"))}
        proc = subprocess.Popen(
            [sys.executable, "-m", "skiff_server", "server", "--port", str(port),
             "--artifacts-destination", str(tmp_path / "art"), *args],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        procs.append(proc)
        return proc, f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_server_process_serves_and_prints_its_url(start_server, tmp_path):
    proc, url = start_server("--artifacts-only", "--static-prefix", "/skiff", "--workers", "2")
    elapsed = _wait(url + "/skiff/health", proc)
    assert elapsed < 10  # the < 1 s figure is measured by bench/server on a quiet machine
    req = urllib.request.Request(url + "/skiff/api/2.0/mlflow-artifacts/artifacts/a/b.txt",
                                 data=b"hello", method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    assert (tmp_path / "art" / "a" / "b.txt").read_bytes() == b"hello"
    with urllib.request.urlopen(url + "/skiff/api/2.0/mlflow-artifacts/artifacts/a/b.txt") as r:
        assert r.read() == b"hello" and r.headers["Content-Length"] == "5"
    os.killpg(proc.pid, signal.SIGTERM)
    output = proc.communicate(timeout=20)[0].decode()
    assert f"{url}/skiff" in output


def test_long_get_request_lines_reach_the_app(start_server):
    # 100 run IDs on get-history-bulk-interval (what a chart of 100 runs asks): the app
    # answers, in JSON; gunicorn's default limit refused it with an HTML 414
    import json
    import urllib.error
    import urllib.parse

    proc, url = start_server()
    _wait(url + "/health", proc)
    query = urllib.parse.urlencode([("run_ids", f"{i:032x}") for i in range(100)]
                                   + [("metric_key", "loss")])
    assert len(query) > 4094
    try:
        urllib.request.urlopen(f"{url}/api/2.0/mlflow/metrics/get-history-bulk-interval?{query}")
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
        assert exc.code in (400, 404) and "error_code" in body, body
    else:
        raise AssertionError("unknown runs must not be found")


def test_requests_gunicorn_refuses_get_the_json_error_shape(start_server):
    # past gunicorn's request-line limit, or unparsable: gunicorn answers before the app,
    # and in MLflow's error shape like the app (not gunicorn's HTML page)
    import json
    import urllib.error
    import urllib.parse

    proc, url = start_server()
    _wait(url + "/health", proc)
    query = urllib.parse.urlencode([("run_ids", f"{i:032x}") for i in range(300)])
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{url}/api/2.0/mlflow/metrics/get-history-bulk-interval?{query}")
    assert info.value.code == 414
    assert info.value.headers["Content-Type"] == "application/json"
    body = json.loads(info.value.read())
    assert body["error_code"] == "BAD_REQUEST" and "8190" in body["message"], body

    host, port = urllib.parse.urlsplit(url).netloc.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"NOT A REQUEST\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head, head
    assert json.loads(body)["error_code"] == "BAD_REQUEST"


def test_commands_are_registered_through_the_plugin():
    from skiff.cli import build_cli

    cli = build_cli()
    assert {"server", "ui"} <= set(cli.commands)
    result = CliRunner().invoke(cli, ["ui", "--help"])
    assert result.exit_code == 0 and "--backend-store-uri" in result.output
    for option in ("--registry-store-uri", "--default-artifact-root", "--serve-artifacts",
                   "--artifacts-destination", "--artifacts-only", "--host", "--port",
                   "--workers", "--allowed-hosts", "--cors-allowed-origins",
                   "--static-prefix", "--expose-prometheus", "--dev", "--gunicorn-opts"):
        assert option in result.output, option


def test_bad_options_are_usage_errors():
    from skiff_server.cli import server

    result = CliRunner().invoke(server, ["--static-prefix", "noslash"])
    assert result.exit_code == 2 and "--static-prefix" in result.output
    result = CliRunner().invoke(server, ["--artifacts-only", "--no-serve-artifacts"])
    assert result.exit_code == 2
    result = CliRunner().invoke(server, ["--dev", "--workers", "2"])
    assert result.exit_code == 2 and "--dev" in result.output


def test_uri_schemes_no_plugin_serves_are_refused_at_start():
    # one line naming the URI (and what to install, where known), exit 1, nothing started
    from skiff_server.cli import server

    for args, kind in ((["--backend-store-uri", "nope://x"], "tracking store"),
                       (["--artifacts-destination", "qq://bucket"], "artifact repository")):
        result = CliRunner().invoke(server, args)
        assert result.exit_code == 1, result.output
        assert f"No {kind} is installed for URI" in result.output
        assert "Traceback" not in result.output and len(result.output.splitlines()) == 1


def test_env_twins_configure_workers(monkeypatch):
    from skiff_server.config import ServerConfig

    monkeypatch.delenv("_SKIFF_SERVER_CONFIG", raising=False)
    monkeypatch.setenv("MLFLOW_BACKEND_STORE_URI", "sqlite:///x.db")
    monkeypatch.setenv("SKIFF_ARTIFACTS_DESTINATION", "/data/art")
    monkeypatch.setenv("MLFLOW_SERVER_ALLOWED_HOSTS", "a.example.com, b.example.com")
    config = ServerConfig.from_env()
    assert config.backend_store_uri == "sqlite:///x.db"
    assert config.artifacts_destination == "/data/art"
    assert config.allowed_hosts == ["a.example.com", "b.example.com"]
    assert config.artifact_root == "mlflow-artifacts:/"
    roundtrip = ServerConfig.coerce(__import__("json").loads(config.to_json()))
    assert roundtrip == config
