import uuid

import pytest

from skiff.testing.servers import ServerUnavailable, start_azurite, unavailable

ACCOUNT_HOST = "devstoreaccount1.blob.core.windows.net"


@pytest.fixture(scope="session")
def azurite():
    try:
        server = start_azurite()
    except ServerUnavailable as exc:
        unavailable(exc)
    with server:
        yield server


@pytest.fixture
def azure_env(azurite, monkeypatch):
    from skiff_artifacts_azure import client

    for name in ("AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in azurite.env.items():
        monkeypatch.setenv(name, value)
    client._clients.clear()
    yield azurite
    client._clients.clear()


@pytest.fixture
def container(azure_env):
    from skiff_artifacts_azure.client import get_service

    name = f"skiff-{uuid.uuid4().hex[:12]}"
    get_service("devstoreaccount1", ACCOUNT_HOST).create_container(name)
    return name
