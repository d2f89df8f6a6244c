"""Skiff's SQL store against MLflow 3.17.2's SqlAlchemyStore on the same database engine.

    python bench/sql_store/bench_sql_store.py                      # SQLite + PostgreSQL, 10k runs
    python bench/sql_store/bench_sql_store.py --runs 100000        # the issue's 100k runs
    python bench/sql_store/bench_sql_store.py --backends sqlite,postgresql,mysql

For each backend both stores get a fresh database (a SQLite file each, or a database each
on the same server), the same data bulk-loaded straight into their tables, and then:
- log_batch of 1000 metrics (points/s, store in process);
- search_runs "metrics.rmse < 0.5 and params.alpha = '0.1'" ordered by metrics.rmse,
  1000 per page (first page, and every page), right after loading and again warm;
- a metric history of --history-points points: a 320-point downsample (best of three
  calls), and the whole history paged 25,000 at a time.
MLflow runs in its own virtualenv (built on first use) as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _data  # noqa: E402
from _common import report  # noqa: E402

MLFLOW_REQUIREMENTS = ["mlflow==3.17.2", "psycopg[binary]", "pymysql"]
SERVERS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432",
    "mysql": "mysql://root@127.0.0.1:3306",
}


# -- databases ------------------------------------------------------------------------------
def _create_database(backend: str, tmp: Path, label: str) -> tuple[str, callable]:
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        return f"sqlite:///{tmp / (name + '.db')}", lambda: None
    if backend == "postgresql":
        import psycopg

        admin = dict(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True)
        with psycopg.connect(**admin) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(**admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"{SERVERS[backend]}/{name}", drop
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()

    def drop_mysql():
        c = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
        c.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        c.close()

    return f"{SERVERS[backend]}/{name}", drop_mysql


# -- the Skiff side -------------------------------------------------------------------------
def _skiff_load(store, n_runs: int, history_points: int) -> tuple[str, str]:
    from skiff_stores_sql import _latest_metrics_doc, _params_tags
    from skiff_stores_sql._common import document_text

    exp_id = store.create_experiment("bench")
    history_exp = store.create_experiment("history")
    history_run = store.create_run(history_exp, "bench", _data.START, [], "history").info.run_id
    location = store.get_experiment(exp_id).artifact_location
    runs, params, tags, latest = [], [], [], []
    for run_id, start, p, m, t in _data.runs(n_runs):
        runs.append((run_id, int(exp_id), t["mlflow.runName"], "bench", "FINISHED", start,
                     start + 500, "active", f"{location}/{run_id}/artifacts",
                     _params_tags.encode(p, t),  # the documents as the store's writes keep them
                     document_text({k: _latest_metrics_doc.entry(v, 0, start, 0)
                                    for k, v in m.items()})))
        params.extend((run_id, k, v) for k, v in p.items())
        tags.extend((run_id, k, v) for k, v in t.items())
        latest.extend((run_id, k, 0, start, v, 0) for k, v in m.items())
    metric_cols = ["run_uuid", "key", "step", "timestamp", "seq", "value", "value_kind"]
    with store.engine.connect().execution_options(skiff_write=True) as conn, conn.begin():
        _data.bulk_insert(conn, "runs", [
            "run_uuid", "experiment_id", "name", "user_id", "status", "start_time", "end_time",
            "lifecycle_stage", "artifact_uri", _params_tags.COLUMN, _latest_metrics_doc.COLUMN],
            runs)
        _data.bulk_insert(conn, "params", ["run_uuid", "key", "value"], params)
        _data.bulk_insert(conn, "tags", ["run_uuid", "key", "value"], tags)
        _data.bulk_insert(conn, "latest_metrics",
                          ["run_uuid", "key", "step", "timestamp", "value", "value_kind"], latest)
        _data.bulk_insert(conn, "metrics", metric_cols,
                          ((r, k, s, ts, 0, v, 0) for r, k, s, ts, v, _ in latest))
        points = ((history_run, _data.HISTORY_KEY, step, ts, step, v, 0)
                  for step, ts, v in _data.history(history_points))
        _data.bulk_insert(conn, "metrics", metric_cols, points)
        step, ts, value = _data.last_history_point(history_points)
        _data.bulk_insert(conn, "latest_metrics",
                          ["run_uuid", "key", "step", "timestamp", "value", "value_kind"],
                          [(history_run, _data.HISTORY_KEY, step, ts, value, 0)])
        _latest_metrics_doc.write(conn, history_run, {
            _data.HISTORY_KEY: _latest_metrics_doc.entry(value, 0, ts, step)})
    _data.settle(store.engine)
    return exp_id, history_run


def skiff_side(config: dict) -> dict:
    from skiff.entities import Metric
    from skiff_stores_sql.store import SqlTrackingStore

    store = SqlTrackingStore(config["uri"], config["artifact_root"])
    out = {}
    start = time.perf_counter()
    exp_id, history_run = _skiff_load(store, config["runs"], config["history_points"])
    out["load_s"] = time.perf_counter() - start

    run_id = store.create_run(exp_id, "bench", _data.START, [], "writer").info.run_id
    elapsed = 0.0
    for b in range(config["batches"]):
        batch = [Metric(f"m{k}", float(b), _data.START + b, b * 100 + s)
                 for k in range(10) for s in range(100)]
        t0 = time.perf_counter()
        store.log_batch(run_id, batch, [], [])
        elapsed += time.perf_counter() - t0
    out["log_batch_points_per_s"] = config["batches"] * 1000 / elapsed

    out.update(_data.search_cold_and_warm(store, exp_id, config["max_pages"]))

    sampled, out["downsample_s"], out["downsample_cpu_s"] = _data.best_of(
        lambda: store.get_metric_history_bulk_interval([history_run], _data.HISTORY_KEY, 320))
    out["downsample_points"] = len(sampled)

    t0, c0, token, total = time.perf_counter(), time.process_time(), None, 0
    while True:
        page = store.get_metric_history(history_run, _data.HISTORY_KEY, max_results=25000,
                                        page_token=token)
        total += len(page)
        token = page.token
        if not token:
            break
    out["history_paged_s"] = time.perf_counter() - t0
    out["history_paged_cpu_s"] = time.process_time() - c0
    out["history_points"] = total
    return out


def mlflow_side(python: Path, config: dict) -> dict:
    proc = subprocess.run([str(python), str(HERE / "_mlflow_side.py"), json.dumps(config)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"MLflow side failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- main ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--history-points", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=20, help="log_batch calls of 1000")
    parser.add_argument("--max-pages", type=int, default=1000)
    parser.add_argument("--skip-mlflow", action="store_true", help="Skiff's figures only")
    args = parser.parse_args()

    python = None
    if not args.skip_mlflow:
        from skiff.testing.venvs import ensure_venv

        python = ensure_venv("mlflow3-full", MLFLOW_REQUIREMENTS)
    print(f"runs={args.runs} history_points={args.history_points} batches={args.batches}")
    with tempfile.TemporaryDirectory(prefix="skiff-bench-sql-") as tmp:
        tmp_path = Path(tmp)
        for backend in args.backends.split(","):
            results = {}
            for tool in ("skiff", "mlflow"):
                if tool == "mlflow" and python is None:
                    continue
                uri, drop = _create_database(backend, tmp_path, tool)
                config = {"uri": uri, "artifact_root": (tmp_path / f"art-{tool}").as_uri(),
                          "runs": args.runs, "history_points": args.history_points,
                          "batches": args.batches, "max_pages": args.max_pages}
                try:
                    results[tool] = (skiff_side(config) if tool == "skiff"
                                     else mlflow_side(python, config))
                finally:
                    if tool == "skiff":
                        from skiff_stores_sql.engine import dispose_engine, normalize_url

                        dispose_engine(normalize_url(uri))
                    drop()
            _print(backend, args, results)


def _print(backend: str, args, results: dict) -> None:
    ours = results["skiff"]
    print(f"\n[{backend}] skiff: " + json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                                  for k, v in ours.items()}))
    if "mlflow" not in results:
        return
    theirs = results["mlflow"]
    print(f"[{backend}] mlflow: " + json.dumps({k: round(v, 4) if isinstance(v, float) else v
                                                 for k, v in theirs.items()}))
    report(f"{backend}: {args.runs} runs, history of {args.history_points} points", [
        ("log_batch 1000 metrics", ours["log_batch_points_per_s"],
         theirs["log_batch_points_per_s"], "pt/s"),
        (f"search_runs first page ({ours['search_found']} hits)", ours["search_first_page_s"],
         theirs["search_first_page_s"], "s"),
        (f"search_runs all {ours['search_pages']} pages", ours["search_all_pages_s"],
         theirs["search_all_pages_s"], "s"),
        ("search_runs first page, warm", ours["search_warm_first_page_s"],
         theirs["search_warm_first_page_s"], "s"),
        ("search_runs all pages, warm", ours["search_warm_all_pages_s"],
         theirs["search_warm_all_pages_s"], "s"),
        ("history downsample to 320 points", ours["downsample_s"], theirs["downsample_s"], "s"),
        ("full history paged 25k/page", ours["history_paged_s"], theirs["history_paged_s"], "s"),
    ])
    if backend == "sqlite":  # in process: CPU time is robust to a busy machine
        report(f"{backend}: the same, CPU seconds of the calling process", [
            ("search_runs first page", ours["search_first_page_cpu_s"],
             theirs["search_first_page_cpu_s"], "s"),
            ("search_runs all pages", ours["search_all_pages_cpu_s"],
             theirs["search_all_pages_cpu_s"], "s"),
            ("search_runs all pages, warm", ours["search_warm_all_pages_cpu_s"],
             theirs["search_warm_all_pages_cpu_s"], "s"),
            ("history downsample to 320 points", ours["downsample_cpu_s"],
             theirs["downsample_cpu_s"], "s"),
            ("full history paged 25k/page", ours["history_paged_cpu_s"],
             theirs["history_paged_cpu_s"], "s"),
        ])
    assert ours["search_found"] == theirs["search_found"] == ours["search_warm_found"], \
        "stores disagree on search results"
    assert ours["history_points"] == theirs["history_points"]


if __name__ == "__main__":
    main()
