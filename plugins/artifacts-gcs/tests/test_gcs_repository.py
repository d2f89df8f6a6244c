import uuid

import pytest

from skiff.artifacts.resolve import get_artifact_repository
from skiff.errors import SkiffException
from skiff.testing.contracts.artifacts import ArtifactRepositoryContract
from skiff_artifacts_gcs.repository import GCSArtifactRepository


class TestGCSRepository(ArtifactRepositoryContract):
    @pytest.fixture(autouse=True)
    def _small_chunks(self, monkeypatch):
        # Resumable chunks and download ranges small enough for the multi-request paths.
        monkeypatch.setenv("SKIFF_GCS_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
        monkeypatch.setenv("SKIFF_GCS_DOWNLOAD_CHUNK_SIZE", str(3 * 1024 * 1024))

    @pytest.fixture
    def repository(self, bucket):
        return GCSArtifactRepository(f"gs://{bucket}/exp/{uuid.uuid4().hex}/artifacts")


def test_resolved_through_plugin(bucket, plugin_manager):
    repo = get_artifact_repository(f"gs://{bucket}/x/y")
    assert isinstance(repo, GCSArtifactRepository)
    assert (repo.bucket_name, repo.prefix) == (bucket, "x/y")


def test_content_type_and_crc(bucket, tmp_path):
    from skiff_artifacts_gcs.client import get_client

    (tmp_path / "m.json").write_text("{}")
    GCSArtifactRepository(f"gs://{bucket}/p").log_artifact(str(tmp_path / "m.json"))
    blob = get_client().bucket(bucket).get_blob("p/m.json")
    assert blob.content_type == "application/json" and blob.crc32c


def test_missing_bucket_names_it(gcs_env, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    repo = GCSArtifactRepository("gs://no-such-bucket-skiff/x")
    for call in (lambda: repo.log_artifact(str(tmp_path / "a.txt")), repo.list_artifacts):
        with pytest.raises(SkiffException) as info:
            call()
        assert "no-such-bucket-skiff" in str(info.value) and "does not exist" in str(info.value)
        assert "\n" not in str(info.value)


def test_unreachable_endpoint(monkeypatch):
    from skiff.testing.servers import free_port
    from skiff_artifacts_gcs import client

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SKIFF_GCS_RETRY_TIMEOUT", "1")
    client._clients.clear()
    try:
        with pytest.raises(SkiffException) as info:
            GCSArtifactRepository("gs://bkt/x").list_artifacts()
    finally:
        client._clients.clear()
    assert "Cannot reach" in str(info.value) and "STORAGE_EMULATOR_HOST" in str(info.value)


def test_missing_credentials(monkeypatch, tmp_path):
    from skiff_artifacts_gcs import client

    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    client._clients.clear()
    try:
        with pytest.raises(SkiffException) as info:
            GCSArtifactRepository("gs://bkt/x").list_artifacts()
    finally:
        client._clients.clear()
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(info.value)
    assert info.value.error_code == "PERMISSION_DENIED"


def test_no_credentials_anywhere(monkeypatch, tmp_path):
    from skiff.testing.servers import free_port
    from skiff_artifacts_gcs import client

    for name in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS",
                 "SKIFF_GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud ADC file
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # never probe a metadata server
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("GCE_METADATA_IP", f"127.0.0.1:{free_port()}")
    client._clients.clear()
    try:
        with pytest.raises(SkiffException) as info:
            GCSArtifactRepository("gs://bkt/x").list_artifacts()
    finally:
        client._clients.clear()
    assert "No Google Cloud credentials" in str(info.value)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(info.value)


@pytest.mark.parametrize("composite", ["true", "false"])
def test_large_upload_paths_leave_no_slices(bucket, tmp_path, monkeypatch, composite):
    import os

    from skiff_artifacts_gcs.client import get_client

    monkeypatch.setenv("SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD", composite)
    monkeypatch.setenv("SKIFF_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    monkeypatch.setenv("SKIFF_GCS_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    monkeypatch.setenv("SKIFF_ARTIFACT_MULTIPART_THRESHOLD", str(5 * 1024 * 1024))
    data = os.urandom(12 * 1024 * 1024 + 3)
    (tmp_path / "w.bin").write_bytes(data)
    repo = GCSArtifactRepository(f"gs://{bucket}/run/artifacts")
    repo.log_artifact(str(tmp_path / "w.bin"), "model")
    names = [b.name for b in get_client().list_blobs(bucket)]
    assert names == ["run/artifacts/model/w.bin"]
    assert b"".join(repo.open_read("model/w.bin")) == data


def test_proxied_multipart_with_more_parts_than_one_compose_takes(bucket):
    import requests

    from skiff_artifacts_gcs.client import get_client

    repo = GCSArtifactRepository(f"gs://{bucket}/run/artifacts")
    parts = [bytes([i]) * (100 + i) for i in range(40)]  # 40 > 32: composed in two levels
    created = repo.create_multipart_upload("big/model.bin", len(parts)).to_dict()
    done = []
    for cred, data in zip(created["credentials"], parts):
        assert requests.put(cred["url"], data=data, headers=cred["headers"], timeout=30).ok
        done.append({"part_number": cred["part_number"], "etag": "", "url": cred["url"]})
    repo.complete_multipart_upload("big/model.bin", created["upload_id"], done[::-1])
    assert b"".join(repo.open_read("big/model.bin")) == b"".join(parts)
    assert [b.name for b in get_client().list_blobs(bucket)] == ["run/artifacts/big/model.bin"]


def test_proxied_multipart_refuses_bad_upload_ids_and_missing_parts(bucket):
    repo = GCSArtifactRepository(f"gs://{bucket}/run")
    for bad in ("../../etc", "x" * 32, ""):
        with pytest.raises(SkiffException) as info:
            repo.complete_multipart_upload("f.bin", bad, [{"part_number": 1}])
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    created = repo.create_multipart_upload("f.bin", 2).to_dict()
    with pytest.raises(SkiffException, match=r"Parts \[1, 2\]"):
        repo.complete_multipart_upload("f.bin", created["upload_id"],
                                       [{"part_number": 1}, {"part_number": 2}])
    assert repo.file_size("f.bin") is None


def test_composite_upload_auto_mode(bucket, monkeypatch):
    from skiff_artifacts_gcs import composite
    from skiff_artifacts_gcs.client import get_client

    monkeypatch.delenv("SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD", raising=False)
    handle = get_client().bucket(bucket)
    big = 150 * 1024 * 1024
    # The emulator's bucket: Standard class, nothing kept after deletion.
    assert composite.enabled(handle, big) and not composite.enabled(handle, big - 1)
    monkeypatch.setenv("SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD", "false")
    assert not composite.enabled(handle, big)
    monkeypatch.setenv("SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD", "true")
    assert composite.enabled(handle, 1)
    # A bucket it cannot read (here: missing) never gets a composite upload.
    monkeypatch.setenv("SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD", "auto")
    assert not composite.enabled(get_client().bucket("no-such-bucket-skiff"), big)
