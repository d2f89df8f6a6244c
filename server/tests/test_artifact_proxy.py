"""The artifact proxy: streaming upload/download, list, delete, multipart/presigned 501,
path confinement and interrupted uploads."""

from __future__ import annotations

import io
import os

import pytest

BASE = "/api/2.0/mlflow-artifacts"


def test_upload_download_list_delete(client, tmp_path):
    payload = os.urandom(3 * 1024 * 1024 + 11)  # several chunks
    r = client.put(f"{BASE}/artifacts/1/run/artifacts/data/blob.bin", data=payload)
    assert r.status_code == 200 and r.get_json() == {}
    stored = tmp_path / "mlartifacts" / "1" / "run" / "artifacts" / "data" / "blob.bin"
    assert stored.read_bytes() == payload
    r = client.get(f"{BASE}/artifacts/1/run/artifacts/data/blob.bin")
    assert r.status_code == 200 and r.data == payload
    assert r.headers["Content-Length"] == str(len(payload))
    assert r.headers["Content-Disposition"] == 'attachment; filename="blob.bin"'
    assert r.headers["Content-Type"] == "application/octet-stream"
    listing = client.get(f"{BASE}/artifacts", query_string={"path": "1/run/artifacts"})
    assert listing.get_json() == {"files": [{"path": "data", "is_dir": True}]}
    listing = client.get(f"{BASE}/artifacts?path=1/run/artifacts/data").get_json()
    assert listing == {"files": [{"path": "blob.bin", "is_dir": False,
                                  "file_size": len(payload)}]}
    assert client.get(f"{BASE}/artifacts").get_json() == {"files": [{"path": "1",
                                                                      "is_dir": True}]}
    assert client.get(f"{BASE}/artifacts?path=empty").get_json() == {}
    assert client.delete(f"{BASE}/artifacts/1/run").get_json() == {}
    assert not (tmp_path / "mlartifacts" / "1" / "run").exists()
    assert client.get(f"{BASE}/artifacts/1/run/artifacts/data/blob.bin").status_code == 404


def test_html_is_served_as_text(client):
    client.put(f"{BASE}/artifacts/x/page.html", data=b"<script>alert(1)</script>")
    r = client.get(f"{BASE}/artifacts/x/page.html")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_ajax_prefix(client):
    assert client.put("/ajax-api/2.0/mlflow-artifacts/artifacts/a/b.txt",
                      data=b"x").status_code == 200
    assert client.get(f"{BASE}/artifacts/a/b.txt").data == b"x"


@pytest.mark.parametrize("path", [
    "../secret.txt",
    "a/../../secret.txt",
    "%2e%2e/secret.txt",
    "a/%2e%2e/%2e%2e/secret.txt",
    "%252e%252e/secret.txt",
    "a%2f..%2f..%2fsecret.txt",
    "..%5csecret.txt",
    "a\\..\\..\\secret.txt",
    "%2fetc/passwd",
    "C:/Windows/x.txt",
    "a/%00/x.txt",
])
def test_path_traversal_refused(client, tmp_path, path):
    for method in ("GET", "PUT", "DELETE"):
        r = client.open(f"{BASE}/artifacts/{path}", method=method, data=b"x")
        assert r.status_code in (400, 404), (method, path, r.status_code)
        if r.status_code == 400:
            assert "Invalid path" in r.get_json()["message"]
    r = client.get(f"{BASE}/artifacts", query_string={"path": path})
    assert r.status_code == 400
    assert not (tmp_path / "secret.txt").exists()


def test_absolute_path_query_refused(client):
    r = client.get(f"{BASE}/artifacts", query_string={"path": "/etc"})
    assert r.status_code == 400 and "Invalid path" in r.get_json()["message"]
    r = client.put(f"{BASE}/artifacts//etc/x", data=b"x")
    assert r.status_code in (400, 404)  # the route itself does not match a leading '/'


def test_symlink_out_of_root_refused(client, tmp_path):
    root = tmp_path / "mlartifacts"
    root.mkdir(exist_ok=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, root / "link")
    r = client.get(f"{BASE}/artifacts/link/secret.txt")
    assert r.status_code == 400
    r = client.put(f"{BASE}/artifacts/link/new.txt", data=b"x")
    assert r.status_code == 400 and not (outside / "new.txt").exists()
    assert client.get(f"{BASE}/artifacts?path=link").status_code == 400


def test_interrupted_upload_leaves_nothing(client, tmp_path):
    r = client.put(f"{BASE}/artifacts/up/partial.bin", input_stream=io.BytesIO(b"abc"),
                   environ_overrides={"CONTENT_LENGTH": "1000000"})
    assert r.status_code == 400
    target = tmp_path / "mlartifacts" / "up"
    assert not target.exists() or list(target.iterdir()) == []


def test_upload_needs_a_file_name(client):
    assert client.put(f"{BASE}/artifacts/dir/", data=b"x").status_code == 400


def test_multipart_and_presigned_not_implemented_for_local(client):
    r = client.post(f"{BASE}/mpu/create/a/b.bin", json={"path": "a/b.bin", "num_parts": 2})
    assert r.status_code == 501 and r.get_json()["error_code"] == "NOT_IMPLEMENTED"
    assert "Multipart upload is not supported" in r.get_json()["message"]
    for step in ("complete", "abort"):
        r = client.post(f"{BASE}/mpu/{step}/a/b.bin", json={"path": "a/b.bin",
                                                            "upload_id": "u"})
        assert r.status_code == 501
    assert client.get(f"{BASE}/presigned/a/b.bin").status_code == 501


def test_multipart_through_a_repository_that_supports_it(make_app, tmp_path):
    from skiff.artifacts.local import LocalArtifactRepository
    from skiff.artifacts.multipart import (
        CreateMultipartUpload,
        MultipartUploadCredential,
        MultipartUploadMixin,
    )

    calls = []

    class Multipart(MultipartUploadMixin, LocalArtifactRepository):
        def create_multipart_upload(self, artifact_path, num_parts=1):
            calls.append(("create", artifact_path, num_parts))
            return CreateMultipartUpload("u1", [MultipartUploadCredential(f"http://x/{i}", i)
                                                for i in range(1, num_parts + 1)])

        def complete_multipart_upload(self, artifact_path, upload_id, parts):
            calls.append(("complete", artifact_path, upload_id,
                          [p.part_number for p in parts]))

        def abort_multipart_upload(self, artifact_path, upload_id):
            calls.append(("abort", artifact_path, upload_id))

    app = make_app()
    app.extensions["skiff"]._destination = Multipart(str(tmp_path / "mpu"))
    client = app.test_client()
    # As MLflow's client sends them: the URL names the directory, "path" the local file.
    local = "/home/me/data/b.bin"
    r = client.post(f"{BASE}/mpu/create/a", json={"path": local, "num_parts": 2})
    assert r.get_json() == {"upload_id": "u1", "credentials": [
        {"url": "http://x/1", "part_number": 1, "headers": {}},
        {"url": "http://x/2", "part_number": 2, "headers": {}}]}
    client.post(f"{BASE}/mpu/complete/a", json={
        "path": local, "upload_id": "u1",
        "parts": [{"part_number": 2, "etag": "e2"}, {"part_number": 1, "etag": "e1"}]})
    client.post(f"{BASE}/mpu/abort/a", json={"path": "C:\\data\\b.bin", "upload_id": "u1"})
    assert calls == [("create", "a/b.bin", 2), ("complete", "a/b.bin", "u1", [1, 2]),
                     ("abort", "a/b.bin", "u1")]
    for bad in ("", "/x/..", "/x/"):
        r = client.post(f"{BASE}/mpu/create/a", json={"path": bad, "num_parts": 1})
        assert r.status_code == 400 and r.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert client.get("/api/3.0/mlflow/server-info").get_json()["multipart_uploads_enabled"]
