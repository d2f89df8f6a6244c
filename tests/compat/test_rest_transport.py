"""The REST client's transport against a small real HTTP server: retries with backoff,
basic and bearer auth, plugin headers, TLS option checks, MLflow's error mapping."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skiff.errors import RestException, SkiffException

EXPERIMENT = {"experiment": {"experiment_id": "7", "name": "e", "artifact_location": "x",
                             "lifecycle_stage": "active"}}


class Recorder:
    def __init__(self):
        self.requests = []
        self.fail_first = 0
        self.status = 200
        self.body = json.dumps(EXPERIMENT).encode()
        self.content_type = "application/json"


@pytest.fixture
def fake_server(monkeypatch):
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            recorder.requests.append((self.command, self.path, dict(self.headers)))
            if len(recorder.requests) <= recorder.fail_first:
                self._send(503, b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "x"}',
                           "application/json")
                return
            self._send(recorder.status, recorder.body, recorder.content_type)

        do_POST = do_GET  # noqa: N815

        def _send(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SKIFF_HTTP_REQUEST_BACKOFF_FACTOR", "0.01")
    monkeypatch.setenv("SKIFF_HTTP_REQUEST_BACKOFF_JITTER", "0")
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield recorder
    httpd.shutdown()
    httpd.server_close()


def _store(url):
    from skiff.store.rest import RestStore

    return RestStore(url)


def test_retries_on_5xx_then_succeeds(fake_server):
    fake_server.fail_first = 2
    assert _store(fake_server.url).get_experiment("7").name == "e"
    assert len(fake_server.requests) == 3
    method, path, _ = fake_server.requests[-1]
    assert method == "GET" and path == "/api/2.0/mlflow/experiments/get?experiment_id=7"


def test_gives_up_after_max_retries(fake_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    fake_server.fail_first = 10
    with pytest.raises(SkiffException):
        _store(fake_server.url).get_experiment("7")
    assert len(fake_server.requests) == 2


def test_basic_auth_and_token(fake_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    _store(fake_server.url).get_experiment("7")
    assert fake_server.requests[-1][2]["Authorization"] == "Bearer tok"
    monkeypatch.setenv("SKIFF_TRACKING_USERNAME", "user")
    monkeypatch.setenv("SKIFF_TRACKING_PASSWORD", "pw")
    _store(fake_server.url).get_experiment("7")
    assert fake_server.requests[-1][2]["Authorization"] == "Basic dXNlcjpwdw=="


def test_plugin_request_headers(fake_server):
    from skiff.plugins import hookimpl
    from skiff.testing.fixtures import registered

    class HeaderPlugin:
        @staticmethod
        @hookimpl
        def request_headers(uri):
            return {"X-Team": "skiff", "X-Uri": uri}

    with registered(HeaderPlugin, "test-header-plugin"):
        _store(fake_server.url).get_experiment("7")
    headers = fake_server.requests[-1][2]
    assert headers["X-Team"] == "skiff" and headers["X-Uri"] == fake_server.url


def test_keep_alive_session_is_reused(fake_server):
    store = _store(fake_server.url)
    store.get_experiment("7")
    session = store.settings.session()
    store.get_experiment("7")
    assert store.settings.session() is session
    assert _store(fake_server.url).settings.session() is session


def test_error_mapping(fake_server):
    fake_server.status = 404
    fake_server.body = b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}'
    with pytest.raises(RestException) as err:
        _store(fake_server.url).get_experiment("7")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST" and err.value.http_status == 404
    fake_server.body = b"<html>not found</html>"
    fake_server.content_type = "text/html"
    with pytest.raises(SkiffException) as err:
        _store(fake_server.url).get_experiment("7")
    assert err.value.error_code == "ENDPOINT_NOT_FOUND"
    assert "failed with error code 404 != 200" in err.value.message


def test_tls_options(monkeypatch):
    from skiff.store._http import HttpSettings

    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    assert HttpSettings("https://h").verify is False
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", "/ca.pem")
    with pytest.raises(SkiffException, match="cannot both be set"):
        HttpSettings("https://h")
    monkeypatch.delenv("MLFLOW_TRACKING_INSECURE_TLS")
    monkeypatch.setenv("SKIFF_TRACKING_CLIENT_CERT_PATH", "/client.pem")
    settings = HttpSettings("https://h")
    assert settings.verify == "/ca.pem"
    session = settings.session()
    assert session.verify == "/ca.pem" and session.cert == "/client.pem"


def test_connection_refused_is_an_mlflow_error(monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("SKIFF_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(SkiffException) as err:
        _store(f"http://127.0.0.1:{port}").get_experiment("1")
    assert err.value.error_code == "TEMPORARILY_UNAVAILABLE"


def test_mlflow_artifacts_uri_resolution():
    from skiff.artifacts.http import resolve_proxy_uri

    assert resolve_proxy_uri("mlflow-artifacts:/1/r/artifacts", "http://h:5000/") == \
        "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts"
    assert resolve_proxy_uri("mlflow-artifacts://srv:81/x", "file:///ignored") == \
        "http://srv:81/api/2.0/mlflow-artifacts/artifacts/x"
    with pytest.raises(SkiffException, match="without a port"):
        resolve_proxy_uri("mlflow-artifacts://srv/x", "http://h")
    with pytest.raises(SkiffException, match="TRACKING_URI"):
        resolve_proxy_uri("mlflow-artifacts:/x", "/local/mlruns")
