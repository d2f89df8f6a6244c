from __future__ import annotations

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from memory_registry import MemoryRegistryPlugin  # noqa: E402
from memory_store import MemoryStorePlugin  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _memory_store_plugin():
    from skiff.plugins import get_plugin_manager

    manager = get_plugin_manager()
    if manager.pm.get_plugin("skiff-test-memory-store") is None:
        manager.register(MemoryStorePlugin, "skiff-test-memory-store")
    if manager.pm.get_plugin("skiff-test-memory-registry") is None:
        manager.register(MemoryRegistryPlugin, "skiff-test-memory-registry")
    yield


@pytest.fixture
def make_app(tmp_path):
    from skiff_server import create_app

    def make(**overrides):
        config = {
            "backend_store_uri": f"memory://{uuid.uuid4().hex}",
            "artifacts_destination": str(tmp_path / "mlartifacts"),
        }
        config.update(overrides)
        app = create_app(config)
        app.testing = True
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """Small helpers over Flask's test client that speak MLflow's JSON API."""

    def __init__(self, client, prefix="/api/2.0/mlflow"):
        self.client = client
        self.prefix = prefix

    def post(self, path, body=None, status=200, **kw):
        r = self.client.post(self.prefix + path, json=body or {}, **kw)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
        return r.get_json()

    def get(self, path, params=None, status=200):
        r = self.client.get(self.prefix + path, query_string=params or {})
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
        return r.get_json()

    def call(self, method, path, body=None, status=200):
        r = self.client.open(self.prefix + path, method=method, json=body)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
        return r.get_json()

    def experiment(self, name="exp"):
        return self.post("/experiments/create", {"name": name})["experiment_id"]

    def run(self, experiment_id=None, **kw):
        body = {"experiment_id": experiment_id or self.experiment(uuid.uuid4().hex),
                "start_time": 1000, **kw}
        return self.post("/runs/create", body)["run"]["info"]["run_id"]


@pytest.fixture
def api(client):
    return Api(client)
