import uuid

import pytest

from skiff.testing.servers import ServerUnavailable, start_moto, unavailable


@pytest.fixture(scope="session")
def moto_server():
    try:
        server = start_moto()
    except ServerUnavailable as exc:
        unavailable(exc)
    with server:
        yield server


@pytest.fixture
def s3_env(moto_server, monkeypatch):
    from skiff_artifacts_s3 import client

    for name, value in moto_server.env.items():
        monkeypatch.setenv(name, value)
    client._clients.clear()
    yield moto_server
    client._clients.clear()


@pytest.fixture
def bucket(s3_env):
    from skiff_artifacts_s3.client import get_client

    name = f"skiff-{uuid.uuid4().hex[:12]}"
    get_client().create_bucket(Bucket=name)
    return name
