"""Fixtures for the artifact-proxy tests: one emulator per cloud backend (session), and per
backend a real ``skiff server`` (full, and ``--artifacts-only``) over a fresh destination.
Helpers live in ``_proxy.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proxy import (  # noqa: E402
    CLOUD_VARIABLES,
    MLFLOW_CLIENT_ENV,
    SCRIPTS,
    SERVER_ENV,
    SkiffServer,
    clean_env,
    open_destination,
    start_emulator,
)

from skiff.testing.servers import ServerUnavailable, unavailable  # noqa: E402

BACKENDS = ["local", "s3", "gcs", "azure"]

_emulators: dict = {}


@pytest.fixture(scope="session")
def emulators():
    yield _emulators
    for server in _emulators.values():
        server.stop()
    _emulators.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def destination(request, emulators, tmp_path_factory):
    name = request.param
    if name != "local" and name not in emulators:
        try:
            emulators[name] = start_emulator(name)
        except ServerUnavailable as exc:
            unavailable(exc)
    return open_destination(name, emulators.get(name), tmp_path_factory.mktemp(name))


@pytest.fixture(scope="module")
def proxy_server(destination, tmp_path_factory):
    server = SkiffServer(destination, tmp_path_factory.mktemp("server"), env=SERVER_ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def artifacts_only_server(destination, tmp_path_factory):
    server = SkiffServer(destination, tmp_path_factory.mktemp("server-only"),
                         "--artifacts-only", env=SERVER_ENV)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_python():
    from skiff.testing.venvs import MLFLOW_3, ensure_venv

    return ensure_venv("mlflow3", [MLFLOW_3])


@pytest.fixture
def run_mlflow_client(mlflow_python):
    def run(payload: Path, target: str, tracking_uri: str) -> dict:
        env = clean_env(MLFLOW_TRACKING_URI=tracking_uri, PROXY_TAG=uuid.uuid4().hex[:8],
                        **MLFLOW_CLIENT_ENV)
        done = subprocess.run([str(mlflow_python), str(SCRIPTS / "mlflow_proxy_client.py"),
                               str(payload), target], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-6000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture
def no_cloud_credentials(monkeypatch):
    """The in-process Skiff client sees no credential or endpoint of any cloud."""
    for name in list(os.environ):
        if name.startswith(CLOUD_VARIABLES):
            monkeypatch.delenv(name)
