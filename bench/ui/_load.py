"""Fast, identical data sets for the UI benchmark: the same runs are bulk-inserted into an
MLflow 3.17.2 SQLite database and into Skiff's SQL store (each schema made by its own store,
then plain INSERTs). Both are cached under .cache/bench-ui by run count."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "bench-ui"
EXPERIMENT = "bench"


def _mlflow_schema(python: Path, db: Path) -> str:
    script = ("import sys\nfrom mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
              f"s = SqlAlchemyStore('sqlite:///{db}', '{db.parent / 'art'}')\n"
              f"print(s.create_experiment('{EXPERIMENT}'))\n")
    out = subprocess.run([str(python), "-c", script], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def _skiff_schema(db: Path) -> str:
    script = ("from skiff.tracking._stores import get_tracking_store\n"
              f"s = get_tracking_store('sqlite:///{db}', '{db.parent / 'art'}')\n"
              f"print(s.create_experiment('{EXPERIMENT}'))\n")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True)
    return out.stdout.strip().splitlines()[-1]


def _insert(db: Path, exp_id: str, ids: list[str], chart_steps: int, skiff: bool):
    now = int(time.time() * 1000)
    runs = len(ids)
    conn = sqlite3.connect(db)
    art = db.parent / "art"
    rows = [(rid, f"run-{i:07d}", now - i * 1000, now - i * 1000 + 500,
             f"{art}/{exp_id}/{rid}/artifacts", int(exp_id)) for i, rid in enumerate(ids)]
    if skiff:
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, user_id, status, start_time, end_time,"
            " lifecycle_stage, artifact_uri, experiment_id) VALUES (?, ?, 'bench', 'FINISHED',"
            " ?, ?, 'active', ?, ?)", rows)
    else:
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
            " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
            " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED',"
            " ?, ?, '', 'active', ?, ?)", rows)
    tags, params, metrics, latest = [], [], [], []
    for i, rid in enumerate(ids):
        tags += [("mlflow.runName", f"run-{i:07d}", rid), ("mlflow.source.name", "train.py", rid),
                 ("mlflow.user", "bench", rid), ("team", f"t{i % 5}", rid)]
        params += [("lr", str(0.001 * (i % 100)), rid), ("model", f"m{i % 7}", rid)]
        for key, value in (("loss", 1 / (i + 1)), ("acc", i / runs)):
            metrics.append((key, value, now, rid, 0, 0))
            latest.append((key, value, now, 0, 0, rid))
    for rid in ids[:5] if chart_steps else []:
        metrics += [("curve", 1 / (s + 1), now + s, rid, s, 0) for s in range(chart_steps)]
        latest.append(("curve", 1 / chart_steps, now + chart_steps - 1, chart_steps - 1, 0, rid))
    conn.executemany('INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)', tags)
    conn.executemany('INSERT INTO params ("key", value, run_uuid) VALUES (?, ?, ?)', params)
    if skiff:  # value_kind 0 = finite; seq keeps repeated (step, timestamp) points apart
        conn.executemany('INSERT INTO metrics ("key", value, timestamp, run_uuid, step,'
                         " value_kind, seq) VALUES (?, ?, ?, ?, ?, ?, 0)", metrics)
        conn.executemany('INSERT INTO latest_metrics ("key", value, timestamp, step,'
                         " value_kind, run_uuid) VALUES (?, ?, ?, ?, ?, ?)", latest)
    else:
        conn.executemany('INSERT INTO metrics ("key", value, timestamp, run_uuid, step,'
                         " is_nan) VALUES (?, ?, ?, ?, ?, ?)", metrics)
        conn.executemany('INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan,'
                         " run_uuid) VALUES (?, ?, ?, ?, ?, ?)", latest)
    conn.commit()
    conn.close()
    if skiff:  # each run's documents (params and tags, latest metrics), as the store's
        import sqlalchemy as sa  # own writes keep them

        from skiff_stores_sql import _latest_metrics_doc, _params_tags

        engine = sa.create_engine(f"sqlite:///{db}")
        with engine.begin() as sa_conn:
            _params_tags.backfill(sa_conn)
            _latest_metrics_doc.backfill(sa_conn)
        engine.dispose()


def datasets(python: Path, runs: int, chart_steps: int) -> dict:
    """Paths of the MLflow and Skiff databases holding the same runs (built once)."""
    from skiff_stores_sql.schema_version import HEAD_REVISION

    # a database cached at an older schema revision would be refused by the store
    folder = CACHE / f"runs-{runs}-steps-{chart_steps}-schema-{HEAD_REVISION}"
    done = folder / "DONE"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        mlflow_db = folder / "mlflow.db"
        began = time.perf_counter()
        ids = [uuid.uuid4().hex for _ in range(runs)]
        mlflow_exp = _mlflow_schema(python, mlflow_db)
        _insert(mlflow_db, mlflow_exp, ids, chart_steps, skiff=False)
        skiff_db = folder / "skiff.db"
        skiff_exp = _skiff_schema(skiff_db)
        _insert(skiff_db, skiff_exp, ids, chart_steps, skiff=True)
        (folder / "experiments").write_text(f"{mlflow_exp} {skiff_exp}")
        print(f"loaded {runs} runs into both in {time.perf_counter() - began:.0f} s",
              flush=True)
        (folder / "chart_runs").write_text("\n".join(ids[:5]))
        done.write_text("ok\n")
    mlflow_exp, skiff_exp = (folder / "experiments").read_text().split()
    return {"folder": folder, "experiment": {"mlflow": mlflow_exp, "skiff": skiff_exp}, "mlflow": folder / "mlflow.db", "skiff": folder / "skiff.db",
            "chart_runs": (folder / "chart_runs").read_text().split()}
