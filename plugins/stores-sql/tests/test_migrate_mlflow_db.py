"""``skiff migrate --from <MLflow database>``: databases really written by MLflow 3.17.2
(SQLite, PostgreSQL, MariaDB), read directly, copied into a Skiff SQLite store and into
``./mlruns``, and compared with what MLflow itself reads from them.

The MLflow venv is built once (cached); without it the tests skip, or fail when CI=true.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from migrate_data import snapshot

from skiff_stores_sql.migrate import migrate_uris

SCRIPTS = Path(__file__).parent / "mlflow_scripts"
MLFLOW_REQUIREMENTS = ["mlflow==3.17.2", "psycopg[binary]", "pymysql"]


@pytest.fixture(scope="module")
def mlflow_python():
    from skiff.testing.servers import unavailable
    from skiff.testing.venvs import ensure_venv

    try:
        return ensure_venv("mlflow3-full", MLFLOW_REQUIREMENTS)
    except (subprocess.CalledProcessError, OSError) as exc:
        unavailable(RuntimeError(f"cannot build the MLflow 3.17.2 venv: {exc}"))


def _mlflow(python, script: str, *args, cwd) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SKIFF_"))}
    result = subprocess.run([str(python), str(SCRIPTS / script), *args], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _mlflow_database(python, uri: str, artifact_root: Path) -> dict:
    """Fill ``uri`` with MLflow; (IDs it created, MLflow's own view of the data)."""
    cwd = artifact_root.parent  # MLflow's default artifact root is ./mlruns
    ids = _mlflow(python, "fill_mlflow_db.py", uri, str(artifact_root), cwd=cwd)
    return {"ids": ids, "expected": _mlflow(python, "dump_mlflow_store.py", uri, cwd=cwd)}


@pytest.fixture(scope="module")
def mlflow_sqlite(mlflow_python, tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-sqlite")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    return {"uri": uri, "path": root / "mlflow.db",
            **_mlflow_database(mlflow_python, uri, root / "artifacts")}


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


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mlflow_sqlite_into_skiff_sqlite(mlflow_sqlite, tmp_path):
    from skiff_stores_sql.cli import migrate

    before = _digest(mlflow_sqlite["path"])
    target = f"sqlite:///{tmp_path / 'skiff.db'}"
    result = CliRunner().invoke(migrate, ["--from", mlflow_sqlite["uri"], "--to", target])
    assert result.exit_code == 0, result.output
    assert "Copied 4 runs" in result.output and "copied 3 versions" in result.output
    tracking, registry = _stores(target)
    assert snapshot(tracking, registry) == mlflow_sqlite["expected"]
    ids = mlflow_sqlite["ids"]
    assert tracking.get_experiment_by_name("project").experiment_id == ids["experiment_id"]
    assert tracking.get_experiment_by_name("old").experiment_id == ids["old_id"]
    model = tracking.get_logged_model(registry.get_model_version("clf", "4").model_id)
    assert model.name == "net" and model.status == "LOGGED_MODEL_READY"
    assert model.params == {"p": "2"} and model.tags["t"] == "1"

    again = CliRunner().invoke(migrate, ["--from", mlflow_sqlite["uri"], "--to", target])
    assert again.exit_code == 0, again.output
    assert "Copied 0 runs" in again.output and "copied 0 versions" in again.output
    assert snapshot(tracking, registry) == mlflow_sqlite["expected"]
    # Read-only: the MLflow database is byte for byte what it was, with no journal left.
    assert _digest(mlflow_sqlite["path"]) == before
    assert sorted(os.listdir(mlflow_sqlite["path"].parent)) == ["artifacts", "mlflow.db"]


def test_mlflow_sqlite_into_mlruns(mlflow_sqlite, tmp_path):
    pytest.importorskip("skiff_stores_file")
    report = migrate_uris(mlflow_sqlite["uri"], "./mlruns")
    assert report.runs_copied == 4 and report.versions_copied == 3 and not report.renumbered
    tracking, registry = _stores("./mlruns")
    assert snapshot(tracking, registry) == mlflow_sqlite["expected"]
    ids = mlflow_sqlite["ids"]
    assert tracking.get_experiment_by_name("project").experiment_id == ids["experiment_id"]
    assert (tmp_path / "mlruns" / ids["experiment_id"] / "meta.yaml").is_file()
    again = migrate_uris(mlflow_sqlite["uri"], "./mlruns")
    assert (again.runs_copied, again.versions_copied, again.models_created) == (0, 0, 0)


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_mlflow_server_databases(backend, mlflow_python, tmp_path, request):
    from conftest import (
        drop_mysql_db,
        drop_postgres_db,
        make_mysql_db,
        make_postgres_db,
    )

    server = request.getfixturevalue(f"{backend}_server")
    make, drop = ((make_postgres_db, drop_postgres_db) if backend == "postgres"
                  else (make_mysql_db, drop_mysql_db))
    uri, name = make(server)
    try:
        driver = "postgresql+psycopg" if backend == "postgres" else "mysql+pymysql"
        made = _mlflow_database(mlflow_python, driver + uri[uri.index("://"):],
                                tmp_path / "artifacts")
        target = f"sqlite:///{tmp_path / 'skiff.db'}"
        report = migrate_uris(uri, target)
        assert report.runs_copied == 4 and report.versions_copied == 3
        assert snapshot(*_stores(target)) == made["expected"]
        assert migrate_uris(uri, target).runs_copied == 0
    finally:
        drop(uri, name)


def test_proxied_artifacts_need_the_destination(mlflow_sqlite, tmp_path):
    """A database of ``mlflow server`` keeps mlflow-artifacts:/ URIs; without the server,
    --source-artifacts-destination says where those files are."""
    import shutil
    import sqlite3

    db = tmp_path / "mlflow.db"
    shutil.copy(mlflow_sqlite["path"], db)
    served = mlflow_sqlite["path"].parent / "artifacts"
    with sqlite3.connect(db) as conn:  # as the server records them
        conn.execute("UPDATE runs SET artifact_uri = replace(artifact_uri, ?, "
                     "'mlflow-artifacts:')", (str(served),))
    lines = []
    report = migrate_uris(f"sqlite:///{db}", f"sqlite:///{tmp_path / 'plain.db'}",
                          notify=lines.append)
    # The three runs of "project" are unreadable; the logged model's files are copied.
    assert report.artifact_failures == 3 and report.artifact_files == 1
    assert "Artifacts of run" in lines[0] and "mlflow-artifacts:" in lines[0]
    target = f"sqlite:///{tmp_path / 'served.db'}"
    report = migrate_uris(f"sqlite:///{db}", target, source_artifacts_destination=str(served))
    assert report.artifact_failures == 0 and report.artifact_files == 3
    assert snapshot(*_stores(target))["experiments"] == (
        mlflow_sqlite["expected"]["experiments"])


def test_only_the_default_workspace_is_read(mlflow_sqlite, tmp_path):
    import shutil
    import sqlite3

    db = tmp_path / "mlflow.db"
    shutil.copy(mlflow_sqlite["path"], db)
    with sqlite3.connect(db) as conn:  # MLflow 3.10+ keeps a workspace per experiment
        conn.execute("UPDATE experiments SET workspace = 'team-b' WHERE name = 'old'")
    lines = []
    target = f"sqlite:///{tmp_path / 'skiff.db'}"
    report = migrate_uris(f"sqlite:///{db}", target, notify=lines.append)
    assert lines == ["Workspace 'team-b' (1 experiments) is not copied: only the 'default' "
                     "workspace is"]
    assert report.runs_copied == 3 and _stores(target)[0].get_experiment_by_name("old") is None
