"""The wheel cache behind --bundle-dependencies (no network, no engine)."""

from __future__ import annotations

import json
import time
import zipfile

from skiff_deploy_docker import wheelhouse


def _wheel(folder, name, requires):
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA", "Metadata-Version: 2.1\n"
                         f"Name: {name}\nVersion: 1.0\n"
                         + "".join(f"Requires-Dist: {r}\n" for r in requires))
    return path.name


def test_a_resolution_is_served_from_the_cache_for_a_day(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = tmp_path / "first"
    first.mkdir()
    local = _wheel(first, "skiff_core", ["click"])
    (first / "click-8.0-py3-none-any.whl").write_bytes(b"click wheel")
    key = wheelhouse.resolution_key([local, "mlserver"], str(first), None, ["--python-version",
                                                                           "3.11"])
    assert not wheelhouse.fetch(key, str(first))
    wheelhouse.remember(key, str(first), {local})
    cached = sorted(p.name for p in (tmp_path / "cache" / "skiff" / "wheels").glob("*.whl"))
    assert cached == ["click-8.0-py3-none-any.whl"]  # wheels built from source stay out

    second = tmp_path / "second"
    second.mkdir()
    _wheel(second, "skiff_core", ["click"])
    assert wheelhouse.fetch(key, str(second))
    assert (second / "click-8.0-py3-none-any.whl").read_bytes() == b"click wheel"

    # Other requirements (here a local wheel's own) are another resolution.
    third = tmp_path / "third"
    third.mkdir()
    changed = _wheel(third, "skiff_core", ["click", "pyyaml"])
    assert wheelhouse.resolution_key([changed, "mlserver"], str(third), None,
                                     ["--python-version", "3.11"]) != key
    # After a day pip resolves again.
    record = tmp_path / "cache" / "skiff" / "wheels" / "resolutions" / f"{key}.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "time": time.time() - 2 * 24 * 3600}))
    assert not wheelhouse.fetch(key, str(third))
