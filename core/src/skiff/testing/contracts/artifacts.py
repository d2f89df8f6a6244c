"""The artifact-repository contract suite.

A repository plugin's tests subclass :class:`ArtifactRepositoryContract` and provide a
``repository`` fixture returning a repository over a fresh, empty root::

    class TestMyRepository(ArtifactRepositoryContract):
        @pytest.fixture
        def repository(self):
            return MyRepository("my://bucket/some/prefix")

The suite lowers the multipart threshold and part size (5 MiB, the S3 minimum) so the
parallel part paths run on small files. Set ``supports_multipart_mixin = False`` for a
repository without the proxied multipart routes.
"""

from __future__ import annotations

import os

import pytest

from skiff.errors import SkiffException

MiB = 1024 * 1024
PART = 5 * MiB


def _write(path, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class ArtifactRepositoryContract:
    supports_multipart_mixin = True

    @pytest.fixture(autouse=True)
    def _small_parts(self, monkeypatch):
        monkeypatch.setenv("SKIFF_MULTIPART_UPLOAD_CHUNK_SIZE", str(PART))
        monkeypatch.setenv("SKIFF_ARTIFACT_MULTIPART_THRESHOLD", str(PART + 1))
        monkeypatch.setenv("SKIFF_MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE", str(PART + 1))
        monkeypatch.setenv("SKIFF_ARTIFACT_MAX_WORKERS", "4")

    @pytest.fixture
    def repository(self):
        raise NotImplementedError("provide a `repository` fixture")

    def test_log_list_download_file(self, repository, tmp_path):
        local = _write(tmp_path / "src" / "hello.txt", b"hello")
        repository.log_artifact(local)
        repository.log_artifact(local, "sub/dir")
        listed = {(f.path, f.is_dir, f.file_size) for f in repository.list_artifacts()}
        assert listed == {("hello.txt", False, 5), ("sub", True, None)}
        assert [f.path for f in repository.list_artifacts("sub")] == ["sub/dir"]
        assert [(f.path, f.file_size) for f in repository.list_artifacts("sub/dir")] == [
            ("sub/dir/hello.txt", 5)]
        _mk(tmp_path / "out")
        out = repository.download_artifacts("sub/dir/hello.txt", str(tmp_path / "out"))
        assert _read(out) == b"hello"
        assert repository.list_artifacts("hello.txt") == []
        assert repository.file_size("hello.txt") == 5
        assert repository.file_size("missing.txt") is None

    def test_log_artifacts_tree_and_download_directory(self, repository, tmp_path):
        src = tmp_path / "tree"
        expected = {f"f{i}.txt": os.urandom(i * 10) for i in range(6)}
        expected.update({"a/b/deep.bin": b"x" * 100, "a/top.bin": b"y"})
        for rel, data in expected.items():
            _write(src / rel, data)
        repository.log_artifacts(str(src), "model")
        root = repository.list_artifacts()
        assert [(f.path, f.is_dir) for f in root] == [("model", True)]
        names = {f.path for f in repository.list_artifacts("model")}
        assert names == {"model/a"} | {f"model/f{i}.txt" for i in range(6)}
        _mk(tmp_path / "dl")
        out = repository.download_artifacts("model", str(tmp_path / "dl"))
        for rel, data in expected.items():
            assert _read(os.path.join(out, rel)) == data
        _mk(tmp_path / "dl2")
        whole = repository.download_artifacts("", str(tmp_path / "dl2"))
        assert _read(os.path.join(whole, "model", "a", "b", "deep.bin")) == b"x" * 100

    def test_paged_listing(self, repository, tmp_path):
        src = tmp_path / "many"
        for i in range(7):
            _write(src / f"{i:02d}.txt", b"z" * i)
        repository.log_artifacts(str(src), "many")
        repository.list_page_size = 2
        infos = repository.list_artifacts("many")
        assert [(f.path, f.file_size) for f in infos] == [(f"many/{i:02d}.txt", i)
                                                          for i in range(7)]

    def test_large_file_multipart_round_trip(self, repository, tmp_path):
        data = os.urandom(3 * PART + 12345)
        local = _write(tmp_path / "big" / "weights.bin", data)
        repository.log_artifact(local, "model")
        assert repository.file_size("model/weights.bin") == len(data)
        _mk(tmp_path / "out")
        out = repository.download_artifacts("model/weights.bin", str(tmp_path / "out"))
        assert _read(out) == data
        assert b"".join(repository.open_read("model/weights.bin")) == data

    def test_large_file_single_stream_download(self, repository, tmp_path, monkeypatch):
        data = os.urandom(2 * PART + 99)
        repository.log_artifact(_write(tmp_path / "up" / "w.bin", data))
        monkeypatch.setenv("SKIFF_MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE", str(1 << 40))
        _mk(tmp_path / "out")
        assert _read(repository.download_artifacts("w.bin", str(tmp_path / "out"))) == data

    def test_write_stream_and_open_read(self, repository):
        repository.write_stream("s/small.txt", iter([b"ab", b"", b"cd"]))
        assert b"".join(repository.open_read("s/small.txt")) == b"abcd"
        big = os.urandom(2 * PART + 7)
        chunks = (big[i:i + 1000_003] for i in range(0, len(big), 1000_003))
        repository.write_stream("s/big.bin", chunks)
        assert repository.file_size("s/big.bin") == len(big)
        assert b"".join(repository.open_read("s/big.bin")) == big
        repository.write_stream("s/empty", iter([]))
        assert repository.file_size("s/empty") == 0

    def test_interrupted_stream_leaves_nothing(self, repository):
        def broken(total):
            yield os.urandom(PART)
            yield os.urandom(total - PART)
            raise ConnectionResetError("client went away")

        for total in (PART + 10, 3 * PART):
            with pytest.raises(ConnectionResetError):
                repository.write_stream("partial/x.bin", broken(total))
            assert repository.file_size("partial/x.bin") is None
            assert repository.list_artifacts("partial") == []

    def test_delete(self, repository, tmp_path):
        local = _write(tmp_path / "d" / "k.txt", b"k")
        repository.log_artifact(local, "keep")
        repository.log_artifact(local, "gone/inner")
        repository.log_artifact(local, "gone")
        repository.log_artifact(local, "file-only")
        repository.delete_artifacts("gone")
        repository.delete_artifacts("file-only/k.txt")
        assert [f.path for f in repository.list_artifacts()] == ["keep"]
        assert repository.file_size("keep/k.txt") == 1

    def test_missing_file(self, repository, tmp_path):
        _mk(tmp_path / "o")
        with pytest.raises(SkiffException) as info:
            repository.download_artifacts("nope.txt", str(tmp_path / "o"))
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        with pytest.raises(SkiffException) as info:
            b"".join(repository.open_read("nope.txt"))
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    @pytest.mark.parametrize("bad", ["../x", "/etc", "a/../../b", "a/%2e%2e/b", "c:/x"])
    def test_paths_are_confined(self, repository, tmp_path, bad):
        local = _write(tmp_path / "p" / "f.txt", b"f")
        calls = [
            lambda: repository.log_artifact(local, bad),
            lambda: repository.list_artifacts(bad),
            lambda: repository.write_stream(bad + "/f.txt", iter([b"x"])),
            lambda: b"".join(repository.open_read(bad)),
            lambda: repository.delete_artifacts(bad),
            lambda: repository.download_artifacts(bad, str(tmp_path)),
        ]
        for call in calls:
            with pytest.raises(SkiffException) as info:
                call()
            assert info.value.error_code == "INVALID_PARAMETER_VALUE"

    def test_proxied_multipart_upload(self, repository):
        if not self.supports_multipart_mixin:
            pytest.skip("repository has no multipart routes")
        import requests

        from skiff.artifacts.multipart import supports_multipart_upload

        assert supports_multipart_upload(repository)
        parts = [os.urandom(PART), b"tail"]
        created = repository.create_multipart_upload("mpu/file.bin", len(parts)).to_dict()
        assert created["upload_id"] and len(created["credentials"]) == 2
        done = []
        for cred, data in zip(created["credentials"], parts):
            response = requests.put(cred["url"], data=data, headers=cred["headers"],
                                    timeout=30)
            assert response.ok, response.text
            done.append({"part_number": cred["part_number"],
                         "etag": response.headers.get("ETag", ""), "url": cred["url"]})
        assert repository.file_size("mpu/file.bin") is None  # not visible before completion
        repository.complete_multipart_upload("mpu/file.bin", created["upload_id"], done)
        assert b"".join(repository.open_read("mpu/file.bin")) == b"".join(parts)

        aborted = repository.create_multipart_upload("mpu/aborted.bin", 1).to_dict()
        requests.put(aborted["credentials"][0]["url"], data=b"x",
                     headers=aborted["credentials"][0]["headers"], timeout=30)
        repository.abort_multipart_upload("mpu/aborted.bin", aborted["upload_id"])
        assert repository.file_size("mpu/aborted.bin") is None


def _mk(path) -> bool:
    os.makedirs(path, exist_ok=True)
    return True
