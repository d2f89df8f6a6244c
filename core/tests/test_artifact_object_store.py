"""The shared object-store repository logic (skiff.artifacts.object_store), run through the
artifact contract over a dict of objects: the walking, fan-out, streaming and key handling
the S3, GCS and Azure plugins share, without any cloud SDK."""

from __future__ import annotations

import contextlib
import threading

import pytest

from skiff.artifacts.object_store import (
    ClientCache,
    ListedEntry,
    ObjectStoreRepository,
    StoredObject,
    checksum_mismatch,
    destination_dir,
)
from skiff.artifacts.transfer import stream_to_file, upload_parts
from skiff.errors import SkiffException
from skiff.testing.contracts.artifacts import ArtifactRepositoryContract


class DictRepository(ObjectStoreRepository):
    """Objects in a dict; a multipart upload becomes visible only once every part came."""

    def __init__(self, artifact_uri, objects: dict):
        super().__init__(artifact_uri)
        # mem://<bucket>/<prefix>: one bucket per dict, so only the prefix matters.
        self.prefix = artifact_uri.split("://", 1)[1].partition("/")[2].strip("/")
        self.objects = objects
        self.lock = threading.Lock()

    def _errors(self, key=None):
        return contextlib.nullcontext()

    def _list_entries(self, prefix):
        keys = sorted(k for k in self.objects if k.startswith(prefix))
        names = list(dict.fromkeys(
            prefix + k[len(prefix):].split("/", 1)[0] + ("/" if "/" in k[len(prefix):] else "")
            for k in keys))
        for start in range(0, len(names), self.list_page_size or 1000):
            for name in names[start:start + (self.list_page_size or 1000)]:
                is_dir = name.endswith("/")
                yield ListedEntry(name, is_dir, None if is_dir else len(self.objects[name]))

    def _walk(self, dir_key):
        prefix = f"{dir_key}/" if dir_key else ""
        return [StoredObject(k, len(v)) for k, v in sorted(self.objects.items())
                if k.startswith(prefix)]

    def _stat(self, key):
        if key not in self.objects:
            raise SkiffException(f"No such artifact: {key}", "RESOURCE_DOES_NOT_EXIST")
        return StoredObject(key, len(self.objects[key]))

    def _download_object(self, obj, local_path, quiet=False):
        stream_to_file(iter([self.objects[obj.key]]), local_path)

    def _put_bytes(self, key, data):
        self.objects[key] = bytes(data)

    def _put_parts(self, key, parts, advance=None, streaming=False):
        results, _ = upload_parts(parts, lambda number, data: bytes(data), progress=advance)
        self.objects[key] = b"".join(results)

    def _delete_one(self, key):
        self.objects.pop(key, None)

    def open_read(self, artifact_path):
        key = self._key(artifact_path)
        data = self._stat(key) and self.objects[key]
        return iter([data[i:i + 1000] for i in range(0, len(data), 1000)] or [b""])


class TestDictRepository(ArtifactRepositoryContract):
    supports_multipart_mixin = False

    @pytest.fixture
    def repository(self):
        return DictRepository("mem://bucket/exp/1/artifacts", {})


def test_keys_stay_under_prefix_and_root_delete_keeps_neighbours(tmp_path):
    objects = {"other/x": b"keep"}
    repo = DictRepository("mem://b/run", objects)
    (tmp_path / "a.txt").write_bytes(b"a")
    repo.log_artifact(str(tmp_path / "a.txt"), "d")
    assert set(objects) == {"other/x", "run/d/a.txt"}
    repo.delete_artifacts()
    assert objects == {"other/x": b"keep"}


def test_download_single_missing_file_names_it(tmp_path):
    repo = DictRepository("mem://b/run", {})
    with pytest.raises(SkiffException) as info:
        repo.download_artifacts("nope.bin", str(tmp_path))
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert repo.download_artifacts("", str(tmp_path)) == str(tmp_path)


def test_destination_must_be_a_directory(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SkiffException, match="not a directory"):
        destination_dir(str(tmp_path / "f"))


def test_checksum_mismatch_removes_the_download(tmp_path):
    target = tmp_path / "bad.bin"
    target.write_bytes(b"corrupt")
    exc = checksum_mismatch(str(target), "mem://b/bad.bin", "MD5 differs")
    assert exc.error_code == "DATA_LOSS" and "mem://b/bad.bin" in exc.message
    assert not target.exists()


def test_client_cache_builds_once_per_key():
    built = []
    cache = ClientCache()

    def build(*key):
        built.append(key)
        return object()

    first = cache.get(("a", 1), build)
    assert cache.get(("a", 1), build) is first and built == [("a", 1)]
    assert cache.get(("b", 2), build) is not first
    cache.clear()
    assert cache.get(("a", 1), build) is not first and len(built) == 3


@pytest.mark.parametrize("key", ["root/../escaped.txt", "root/a/../../../escaped.txt",
                                 "root//abs-escaped.txt"])
def test_keys_that_lead_outside_the_destination_are_refused(tmp_path, key):
    # a bucket may hold such keys (S3 takes any string): nothing is written outside dst,
    # and nothing at all once one key is refused
    repo = DictRepository("mem://bucket/root", {"root/ok.txt": b"ok", key: b"evil"})
    dst = tmp_path / "dst"
    dst.mkdir()
    with pytest.raises(SkiffException) as err:
        repo.download_artifacts("", str(dst))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "outside the destination" in err.value.message
    assert not any(p.name.endswith("escaped.txt") for p in tmp_path.rglob("*"))
    assert list(dst.iterdir()) == []


def test_a_listing_that_leads_outside_the_destination_is_refused(tmp_path):
    # the generic directory download (HTTP proxy, local, plugins without their own)
    from skiff.artifacts.base import ArtifactRepository
    from skiff.entities import FileInfo

    class Hostile(ArtifactRepository):
        def log_artifact(self, local_file, artifact_path=None): ...
        def log_artifacts(self, local_dir, artifact_path=None): ...
        def list_artifacts(self, path=None):
            return [FileInfo("../../escaped.txt", False, 4)]
        def _download_file(self, remote_file_path, local_path):
            with open(local_path, "wb") as f:
                f.write(b"evil")
        def _is_directory(self, artifact_path):
            return True

    dst = tmp_path / "a" / "dst"
    dst.mkdir(parents=True)
    with pytest.raises(SkiffException) as err:
        Hostile("hostile://x").download_artifacts("", str(dst))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert not (tmp_path / "escaped.txt").exists()
