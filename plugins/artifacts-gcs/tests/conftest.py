import uuid

import pytest

from skiff.testing.servers import ServerUnavailable, start_gcs_emulator, unavailable


@pytest.fixture(scope="session")
def gcs_server():
    try:
        server = start_gcs_emulator()
    except ServerUnavailable as exc:
        unavailable(exc)
    with server:
        yield server


@pytest.fixture
def gcs_env(gcs_server, monkeypatch):
    from skiff_artifacts_gcs import client

    for name, value in gcs_server.env.items():
        monkeypatch.setenv(name, value)
    client._clients.clear()
    yield gcs_server
    client._clients.clear()


@pytest.fixture
def bucket(gcs_env):
    from skiff_artifacts_gcs.client import get_client

    name = f"skiff-{uuid.uuid4().hex[:12]}"
    get_client().create_bucket(name)
    return name
