import uuid

import pytest

from skiff.artifacts.resolve import get_artifact_repository
from skiff.errors import SkiffException
from skiff.testing.contracts.artifacts import ArtifactRepositoryContract
from skiff_artifacts_s3.repository import S3ArtifactRepository


class TestS3Repository(ArtifactRepositoryContract):
    @pytest.fixture(autouse=True)
    def _small_ranges(self, monkeypatch):
        # Several ranges per large file, so parallel downloads stitch pieces together.
        monkeypatch.setenv("SKIFF_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(6 * 1024 * 1024))

    @pytest.fixture
    def repository(self, bucket):
        return S3ArtifactRepository(f"s3://{bucket}/exp/{uuid.uuid4().hex}/artifacts")


def test_resolved_through_plugin(bucket, plugin_manager):
    repo = get_artifact_repository(f"s3://{bucket}/x")
    assert isinstance(repo, S3ArtifactRepository)
    assert (repo.bucket, repo.prefix) == (bucket, "x")


def test_bucket_root_repository(bucket, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    repo = S3ArtifactRepository(f"s3://{bucket}")
    repo.log_artifact(str(tmp_path / "a.txt"), "d")
    assert [f.path for f in repo.list_artifacts()] == ["d"]
    assert [f.path for f in repo.list_artifacts("d")] == ["d/a.txt"]


def test_upload_extra_args(bucket, tmp_path, monkeypatch):
    from skiff_artifacts_s3.client import get_client

    monkeypatch.setenv("MLFLOW_S3_UPLOAD_EXTRA_ARGS", '{"Metadata": {"team": "ml"}}')
    (tmp_path / "m.json").write_text("{}")
    repo = S3ArtifactRepository(f"s3://{bucket}/p")
    repo.log_artifact(str(tmp_path / "m.json"))
    head = get_client().head_object(Bucket=bucket, Key="p/m.json")
    assert head["Metadata"] == {"team": "ml"}
    assert head["ContentType"] == "application/json"


def test_missing_bucket_names_it(s3_env, tmp_path):
    (tmp_path / "a.txt").write_text("a")
    repo = S3ArtifactRepository("s3://no-such-bucket-skiff/x")
    with pytest.raises(SkiffException) as info:
        repo.log_artifact(str(tmp_path / "a.txt"))
    message = str(info.value)
    assert "no-such-bucket-skiff" in message and "MLFLOW_S3_ENDPOINT_URL" in message
    assert "\n" not in message
    with pytest.raises(SkiffException, match="does not exist"):
        repo.list_artifacts()


def test_unreachable_endpoint(monkeypatch):
    from skiff.testing.servers import free_port
    from skiff_artifacts_s3 import client

    monkeypatch.setenv("SKIFF_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    client._clients.clear()
    try:
        with pytest.raises(SkiffException) as info:
            S3ArtifactRepository("s3://bkt/x").list_artifacts()
    finally:
        client._clients.clear()
    assert "Cannot reach" in str(info.value) and "MLFLOW_S3_ENDPOINT_URL" in str(info.value)


def test_missing_credentials(s3_env, monkeypatch, tmp_path):
    from skiff_artifacts_s3 import client

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client._clients.clear()
    with pytest.raises(SkiffException) as info:
        S3ArtifactRepository("s3://bkt/x").list_artifacts()
    assert "AWS_ACCESS_KEY_ID" in str(info.value)
    assert info.value.error_code == "PERMISSION_DENIED"


@pytest.mark.parametrize("calculation", ["when_supported", "when_required"])
def test_multipart_part_checksums_follow_boto_setting(bucket, tmp_path, monkeypatch,
                                                      calculation):
    import os

    from skiff_artifacts_s3.client import get_client

    monkeypatch.setenv("AWS_REQUEST_CHECKSUM_CALCULATION", calculation)
    monkeypatch.setenv("SKIFF_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    monkeypatch.setenv("SKIFF_ARTIFACT_MULTIPART_THRESHOLD", str(5 * 1024 * 1024))
    data = os.urandom(11 * 1024 * 1024)
    (tmp_path / "w.bin").write_bytes(data)
    repo = S3ArtifactRepository(f"s3://{bucket}/c-{calculation}")
    repo.log_artifact(str(tmp_path / "w.bin"))
    head = get_client().head_object(Bucket=bucket, Key=f"c-{calculation}/w.bin",
                                    ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")
    assert ("ChecksumCRC32" in head) is (calculation == "when_supported")
    assert b"".join(repo.open_read("w.bin")) == data
