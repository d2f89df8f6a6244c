"""``skiff migrate`` from and to the other stores Skiff opens: ``./mlruns`` (file store) and
a live ``skiff server`` over REST. Needs skiff-stores-file (and skiff-server for the REST
tests); each distribution's own venv skips them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner
from migrate_data import fill, snapshot

from skiff_stores_sql.migrate import migrate_uris

pytest.importorskip("skiff_stores_file")


@pytest.fixture(autouse=True)
def _fresh_stores(monkeypatch, tmp_path):
    from skiff.tracking._stores import clear_store_cache

    monkeypatch.chdir(tmp_path)
    clear_store_cache()
    yield
    clear_store_cache()


def _stores(uri):
    from skiff.tracking._stores import get_registry_store, get_tracking_store

    return get_tracking_store(uri), get_registry_store(uri, tracking_uri=uri)


@pytest.mark.parametrize("target", ["sqlite", "./copy"])
def test_from_mlruns(tmp_path, target):
    if target == "sqlite":  # absolute: SQL engines are cached per URL across tests
        target = f"sqlite:///{tmp_path / 'skiff.db'}"
    source = _stores("./mlruns")
    ids = fill(*source, tmp_path)
    expected = snapshot(*source)
    lines = []
    report = migrate_uris("./mlruns", target, notify=lines.append)
    assert (report.runs_copied, report.versions_copied, report.models_created) == (4, 2, 2)
    copy = _stores(target)
    assert snapshot(*copy) == expected
    kept = copy[0].get_experiment_by_name("project").experiment_id == ids["experiment_id"]
    if target.startswith("sqlite"):  # 18-digit file-store IDs do not fit a SQL store
        assert not kept and len(report.renumbered) == 2
        assert "is not valid in the target" in lines[0]
    else:
        assert kept and not report.renumbered and not lines
    again = migrate_uris("./mlruns", target)
    assert (again.runs_copied, again.runs_skipped, again.versions_copied) == (0, 4, 0)
    assert snapshot(*copy) == expected


@contextlib.contextmanager
def _skiff_server(root):
    """A real ``skiff server`` on a free port over a file store in ``root``."""
    pytest.importorskip("skiff_server")
    from skiff.testing.servers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SKIFF_"))}
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "skiff.cli", "server", "--host", "127.0.0.1", "--port",
         str(port), "--backend-store-uri", str(root / "mlruns"), "--artifacts-destination",
         str(root / "mlartifacts"), "--workers", "1"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "skiff server did not start"
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def test_from_a_live_skiff_server(tmp_path, plugin_manager):
    from skiff.store.rest import RestStore
    from skiff.store.rest_registry import RestRegistryStore
    from skiff_stores_sql.cli import migrate

    (tmp_path / "server").mkdir()
    with _skiff_server(tmp_path / "server") as url:
        source = (RestStore(url), RestRegistryStore(url, url))
        fill(*source, tmp_path, tracking_uri=url)  # artifacts through the server's proxy
        expected = snapshot(*source, tracking_uri=url)
        assert expected["experiments"]["project"]["runs"]["parent"]["artifacts"] == [
            "model/MLmodel", "notes.txt"]
        target = f"sqlite:///{tmp_path / 'skiff.db'}"
        result = CliRunner().invoke(migrate, ["--from", url, "--to", target])
        assert result.exit_code == 0, result.output
        assert "Copied 4 runs" in result.output and "copied 2 versions" in result.output
        assert snapshot(*_stores(target)) == expected
        again = CliRunner().invoke(migrate, ["--from", url, "--to", target])
        assert "Copied 0 runs" in again.output and "copied 0 versions" in again.output


def test_to_a_live_skiff_server(tmp_path):
    from skiff.store.rest import RestStore
    from skiff.store.rest_registry import RestRegistryStore

    source = _stores(f"sqlite:///{tmp_path / 'source.db'}")
    fill(*source, tmp_path)
    expected = snapshot(*source)
    (tmp_path / "server").mkdir()
    with _skiff_server(tmp_path / "server") as url:
        lines = []
        report = migrate_uris(source[0].store_uri, url, notify=lines.append)
        assert report.runs_copied == 4 and report.versions_copied == 2
        assert not lines  # a REST target picks its own IDs: nothing worth a message
        target = (RestStore(url), RestRegistryStore(url, url))
        assert snapshot(*target, tracking_uri=url) == expected
        again = migrate_uris(source[0].store_uri, url)
        assert (again.runs_copied, again.versions_copied) == (0, 0)
