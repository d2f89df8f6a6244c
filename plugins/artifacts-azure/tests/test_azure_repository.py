import uuid

import pytest

from skiff.artifacts.resolve import get_artifact_repository
from skiff.errors import SkiffException
from skiff.testing.contracts.artifacts import ArtifactRepositoryContract
from skiff_artifacts_azure.repository import AzureBlobArtifactRepository, parse_azure_uri

ACCOUNT_HOST = "devstoreaccount1.blob.core.windows.net"


class TestAzureRepository(ArtifactRepositoryContract):
    @pytest.fixture(autouse=True)
    def _small_ranges(self, monkeypatch):
        # Several ranges per large file, so parallel downloads stitch pieces together.
        monkeypatch.setenv("SKIFF_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(6 * 1024 * 1024))

    @pytest.fixture
    def repository(self, container):
        return AzureBlobArtifactRepository(
            f"wasbs://{container}@{ACCOUNT_HOST}/exp/{uuid.uuid4().hex}/artifacts")


def test_parse_uris():
    assert parse_azure_uri("wasbs://c@acct.blob.core.windows.net/a/b") == (
        "c", "acct", "acct.blob.core.windows.net", "a/b")
    assert parse_azure_uri("abfss://fs@acct.dfs.core.windows.net/p") == (
        "fs", "acct", "acct.blob.core.windows.net", "p")
    with pytest.raises(SkiffException):
        parse_azure_uri("wasbs://no-account/x")


def test_schemes_resolved_through_plugin(container, plugin_manager, tmp_path):
    wasbs = get_artifact_repository(f"wasbs://{container}@{ACCOUNT_HOST}/x")
    abfss = get_artifact_repository(
        f"abfss://{container}@devstoreaccount1.dfs.core.windows.net/x")
    assert isinstance(wasbs, AzureBlobArtifactRepository)
    assert isinstance(abfss, AzureBlobArtifactRepository)
    (tmp_path / "f.txt").write_text("f")
    wasbs.log_artifact(str(tmp_path / "f.txt"))
    assert [f.path for f in abfss.list_artifacts()] == ["f.txt"]


def test_content_md5_stored(container, tmp_path):
    import hashlib

    from skiff_artifacts_azure.client import get_service

    data = b"q" * 100
    (tmp_path / "m.json").write_bytes(data)
    AzureBlobArtifactRepository(f"wasbs://{container}@{ACCOUNT_HOST}/p").log_artifact(
        str(tmp_path / "m.json"))
    props = get_service("devstoreaccount1", ACCOUNT_HOST).get_blob_client(
        container, "p/m.json").get_blob_properties()
    assert props.content_settings.content_type == "application/json"
    assert bytes(props.content_settings.content_md5) == hashlib.md5(data).digest()


def test_missing_container_names_it(azure_env, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    repo = AzureBlobArtifactRepository(f"wasbs://no-such-container@{ACCOUNT_HOST}/x")
    for call in (lambda: repo.log_artifact(str(tmp_path / "a.txt")), repo.list_artifacts):
        with pytest.raises(SkiffException) as info:
            call()
        assert "no-such-container" in str(info.value)
        assert "AZURE_STORAGE_CONNECTION_STRING" in str(info.value)
        assert "\n" not in str(info.value)


def test_missing_credentials(monkeypatch):
    import builtins

    from skiff_artifacts_azure import client

    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCESS_KEY",
                 "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("SKIFF_" + name, raising=False)
    real_import = builtins.__import__

    def no_identity(name, *args, **kwargs):
        if name.startswith("azure.identity"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_identity)
    client._clients.clear()
    with pytest.raises(SkiffException) as info:
        AzureBlobArtifactRepository(f"wasbs://c@{ACCOUNT_HOST}/x").list_artifacts()
    assert "AZURE_STORAGE_CONNECTION_STRING" in str(info.value)
    assert "AZURE_STORAGE_ACCESS_KEY" in str(info.value)
    assert info.value.error_code == "PERMISSION_DENIED"


def test_unreachable_endpoint(monkeypatch):
    from skiff.testing.servers import AZURITE_KEY, free_port
    from skiff_artifacts_azure import client

    url = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                       f"AccountKey={AZURITE_KEY};BlobEndpoint={url};")
    monkeypatch.setenv("SKIFF_AZURE_RETRY_TOTAL", "0")
    client._clients.clear()
    try:
        with pytest.raises(SkiffException) as info:
            AzureBlobArtifactRepository(f"wasbs://c@{ACCOUNT_HOST}/x").list_artifacts()
    finally:
        client._clients.clear()
    assert "Cannot reach" in str(info.value) and "127.0.0.1" in str(info.value)


@pytest.mark.parametrize("ranged", [True, False])
def test_download_refuses_bytes_that_differ_from_content_md5(container, tmp_path, monkeypatch,
                                                            ranged):
    from azure.storage.blob import ContentSettings

    from skiff_artifacts_azure.client import get_service

    # ranged: the MD5 is computed while the ranges download; else from the one stream
    monkeypatch.setenv("SKIFF_MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE",
                       "1" if ranged else str(1 << 40))
    monkeypatch.setenv("SKIFF_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(1024 * 1024))
    blob = get_service("devstoreaccount1", ACCOUNT_HOST).get_blob_client(container, "c/x.bin")
    blob.upload_blob(b"a" * (3 * 1024 * 1024 + 5), overwrite=True)
    # a stored MD5 that the bytes do not have (as after corruption at rest)
    blob.set_http_headers(ContentSettings(content_md5=bytearray(16)))
    repo = AzureBlobArtifactRepository(f"wasbs://{container}@{ACCOUNT_HOST}/c")
    with pytest.raises(SkiffException) as caught:
        repo.download_artifacts("x.bin", str(tmp_path))
    assert caught.value.error_code == "DATA_LOSS"
    assert not (tmp_path / "x.bin").exists()
