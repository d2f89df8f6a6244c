"""The local artifact repository answers paths the file system cannot take (a name past
255 bytes, a file where a directory must be, or the reverse) with INVALID_PARAMETER_VALUE,
and leaves nothing behind; a long name that fits is written whole."""

from __future__ import annotations

import pytest

from skiff.artifacts.local import LocalArtifactRepository
from skiff.errors import SkiffException


def _invalid(call) -> str:
    with pytest.raises(SkiffException) as err:
        call()
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    return err.value.message


def test_paths_the_file_system_refuses(tmp_path):
    repo = LocalArtifactRepository(str(tmp_path / "root"))
    repo.write_stream("dir/inner.txt", iter([b"x"]))
    repo.write_stream("file.txt", iter([b"y"]))
    assert "255" in _invalid(lambda: repo.write_stream("é" * 200, iter([b"z"])))
    assert "directory" in _invalid(lambda: repo.write_stream("dir", iter([b"z"])))
    _invalid(lambda: repo.write_stream("file.txt/below", iter([b"z"])))
    local = tmp_path / "local.txt"
    local.write_bytes(b"l")
    _invalid(lambda: repo.log_artifact(str(local), "file.txt"))
    assert [f.path for f in repo.list_artifacts()] == ["dir", "file.txt"]
    assert [f.path for f in repo.list_artifacts("dir")] == ["dir/inner.txt"]
    assert b"".join(repo.open_read("file.txt")) == b"y"


def test_a_long_name_that_fits_is_written(tmp_path):
    repo = LocalArtifactRepository(str(tmp_path / "root"))
    name = "n" * 250  # the upload's temporary name must not be longer than the final one
    repo.write_stream(f"d/{name}", iter([b"ok"]))
    assert b"".join(repo.open_read(f"d/{name}")) == b"ok"
    assert [f.path for f in repo.list_artifacts("d")] == [f"d/{name}"]
