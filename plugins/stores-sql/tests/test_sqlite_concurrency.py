"""SQLite under concurrency: first starts do not race, and 8 processes logging to one
file at once lose nothing and never see "database is locked"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from skiff_stores_sql.engine import get_engine, normalize_url
from skiff_stores_sql.schema_version import HEAD_REVISION

WORKER = str(Path(__file__).with_name("sqlite_worker.py"))


def _run_workers(n: int, args: list[str], sync_dir: Path) -> list[dict]:
    sync_dir.mkdir()
    procs = [
        subprocess.Popen([sys.executable, WORKER, *args[:1], args[1], str(sync_dir), *args[2:]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    deadline = time.time() + 120
    while len(list(sync_dir.glob("ready-*"))) < n:
        assert time.time() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    (sync_dir / "go").touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "locked" not in err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_concurrent_first_starts_on_one_sqlite_file(tmp_path):
    uri = f"sqlite:///{tmp_path / 'race.db'}"
    results = _run_workers(4, ["open", uri], tmp_path / "sync")
    assert all(r["ok"] for r in results)
    with get_engine(normalize_url(uri)).connect() as conn:
        versions = conn.exec_driver_sql("SELECT version_num FROM skiff_alembic_version").all()
        names = conn.exec_driver_sql("SELECT name FROM experiments").scalars().all()
    assert versions == [(HEAD_REVISION,)]
    assert len(names) == 5 and "Default" in names


def test_eight_processes_logging_to_one_file_lose_nothing(tmp_path):
    from skiff_stores_sql.store import SqlTrackingStore

    uri = f"sqlite:///{tmp_path / 'busy.db'}"
    store = SqlTrackingStore(uri)
    shared = store.create_run("0", "parent", 0, [], "shared").info.run_id
    batches = 25
    results = _run_workers(8, ["log", uri, shared, str(batches)], tmp_path / "sync")
    for result in results:
        run = store.get_run(result["run_id"])
        assert len(run.data.metrics) == 100
        assert set(run.data.metrics.values()) == {float(batches - 1)}
        assert len(run.data.params) == batches
        assert run.data.tags["last"] == str(batches - 1)
        history = store.get_metric_history(result["run_id"], "m7")
        assert [m.step for m in history] == list(range(batches))
    shared_history = store.get_metric_history(shared, "shared")
    assert len(shared_history) == 8 * batches
    assert store.get_run(shared).data.metrics["shared"] == float(batches - 1)
    assert os.path.exists(tmp_path / "busy.db-wal") or True  # WAL may be checkpointed away
