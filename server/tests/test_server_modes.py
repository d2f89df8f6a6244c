"""--artifacts-only, --no-serve-artifacts, Host allow-list, CORS, the blueprint hook."""

from __future__ import annotations

import pytest


def test_artifacts_only(make_app):
    client = make_app(artifacts_only=True).test_client()
    r = client.post("/api/2.0/mlflow/experiments/create", json={"name": "x"})
    assert r.status_code == 503 and b"--artifacts-only" in r.data
    assert client.get("/health").status_code == 200
    assert client.put("/api/2.0/mlflow-artifacts/artifacts/a.txt", data=b"x").status_code == 200


def test_no_serve_artifacts(make_app, tmp_path):
    app = make_app(serve_artifacts=False, backend_store_uri="memory://no-serve-"
                   + tmp_path.name)
    client = app.test_client()
    r = client.put("/api/2.0/mlflow-artifacts/artifacts/a.txt", data=b"x")
    assert r.status_code == 503 and b"--serve-artifacts" in r.data
    exp_id = client.post("/api/2.0/mlflow/experiments/create",
                         json={"name": "x"}).get_json()["experiment_id"]
    exp = client.get(f"/api/2.0/mlflow/experiments/get?experiment_id={exp_id}").get_json()
    assert not exp["experiment"]["artifact_location"].startswith("mlflow-artifacts:")


def test_default_artifact_root(make_app):
    client = make_app(default_artifact_root="s3://bucket/root").test_client()
    exp_id = client.post("/api/2.0/mlflow/experiments/create",
                         json={"name": "x"}).get_json()["experiment_id"]
    exp = client.get(f"/api/2.0/mlflow/experiments/get?experiment_id={exp_id}").get_json()
    assert exp["experiment"]["artifact_location"] == f"s3://bucket/root/{exp_id}"


def test_host_header_allow_list(make_app):
    client = make_app().test_client()
    r = client.get("/api/2.0/mlflow/experiments/search?max_results=1",
                   headers={"Host": "evil.example.com"})
    assert r.status_code == 403
    body = r.get_json()
    assert body["error_code"] == "PERMISSION_DENIED" and "--allowed-hosts" in body["message"]
    assert client.get("/health", headers={"Host": "evil.example.com"}).status_code == 200
    for host in ("localhost:5000", "127.0.0.1", "10.1.2.3:80", "[::1]:5000"):
        assert client.get("/version", headers={"Host": host}).status_code == 200, host
    allowed = make_app(allowed_hosts="*.example.com").test_client()
    assert allowed.get("/version", headers={"Host": "evil.example.com"}).status_code == 200
    assert make_app(allowed_hosts="*").test_client().get(
        "/version", headers={"Host": "anything"}).status_code == 200


def test_cors(make_app):
    client = make_app().test_client()
    r = client.post("/api/2.0/mlflow/experiments/create", json={"name": "c"},
                    headers={"Origin": "https://evil.example.com"})
    assert r.status_code == 403 and "--cors-allowed-origins" in r.get_json()["message"]
    r = client.post("/api/2.0/mlflow/experiments/create", json={"name": "c"},
                    headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    pre = client.options("/api/2.0/mlflow/experiments/create",
                         headers={"Origin": "http://localhost:3000",
                                  "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]
    custom = make_app(cors_allowed_origins="https://app.example.com").test_client()
    r = custom.post("/api/2.0/mlflow/experiments/create", json={"name": "d"},
                    headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200
    # Reads are not refused (the browser just cannot see the answer).
    r = client.get("/version", headers={"Origin": "https://evil.example.com"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_security_headers(client):
    r = client.get("/health")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.fixture
def without_entry_points():
    """A plugin manager with only the built-ins and the test store (no installed UI)."""
    from memory_store import MemoryStorePlugin

    from skiff import plugins

    previous = plugins._manager
    plugins.set_plugin_manager(plugins.make_plugin_manager(
        entrypoints=False, plugins=[MemoryStorePlugin]))
    yield
    plugins.set_plugin_manager(previous)


def test_placeholder_and_plugin_blueprints(make_app, without_entry_points):
    from flask import Blueprint

    from skiff.plugins import hookimpl
    from skiff.testing.fixtures import registered

    assert b"Skiff tracking server" in make_app().test_client().get("/").data

    ui = Blueprint("test_ui", __name__)
    ui.add_url_rule("/", "index", lambda: "UI")
    extra = Blueprint("test_extra", __name__)
    extra.add_url_rule("/registered-models/ping", "ping", lambda: {"pong": True})

    class UiPlugin:
        @staticmethod
        @hookimpl
        def register_blueprints(register):
            register(ui)
            register(extra, api=True)

    with registered(UiPlugin, "test-ui-plugin"):
        client = make_app(static_prefix="/p").test_client()
        assert client.get("/p/").data == b"UI"
        assert client.get("/p/api/2.0/mlflow/registered-models/ping").get_json() == {
            "pong": True}
        assert client.get("/p/ajax-api/2.0/mlflow/registered-models/ping").status_code == 200


def test_expose_prometheus(make_app):
    client = make_app(expose_prometheus="/tmp/unused").test_client()
    client.get("/health")
    client.post("/api/2.0/mlflow/experiments/create", json={"name": "prom"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'skiff_http_requests_total{method="GET",path="/health",status="200"} 1' in text
    assert 'path="/api/2.0/mlflow/experiments/create",status="200"} 1' in text
    assert make_app().test_client().get("/metrics").status_code == 404
