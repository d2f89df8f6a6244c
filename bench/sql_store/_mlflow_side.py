"""The MLflow 3.17.2 side of bench_sql_store.py, run inside MLflow's own virtualenv.

    python _mlflow_side.py '<json config>'

Creates MLflow's schema with its SqlAlchemyStore, bulk-loads the same data set as the Skiff
side straight into MLflow's tables, then times the same operations through the store's
Python API and prints one JSON line of results.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _data  # noqa: E402


def _load(store, n_runs: int, history_points: int) -> tuple[str, str]:
    import sqlalchemy as sa

    exp_id = store.create_experiment("bench")
    history_exp = store.create_experiment("history")
    history_run_id = store.create_run(history_exp, "bench", _data.START, [], "history").info.run_id
    location = store.get_experiment(exp_id).artifact_location
    run_rows, params, tags, latest, metrics = [], [], [], [], []
    for run_id, start, p, m, t in _data.runs(n_runs):
        run_rows.append((run_id, t["mlflow.runName"], "LOCAL", "", "", "bench", "FINISHED",
                         start, start + 500, "", "active", f"{location}/{run_id}/artifacts",
                         int(exp_id)))
        params.extend((k, v, run_id) for k, v in p.items())
        tags.extend((k, v, run_id) for k, v in t.items())
        latest.extend((k, v, start, 0, False, run_id) for k, v in m.items())
        metrics.extend((k, v, start, run_id, 0, False) for k, v in m.items())
    with store.engine.begin() as conn:
        _data.bulk_insert(conn, "runs", [
            "run_uuid", "name", "source_type", "source_name", "entry_point_name", "user_id",
            "status", "start_time", "end_time", "source_version", "lifecycle_stage",
            "artifact_uri", "experiment_id"], run_rows)
        _data.bulk_insert(conn, "params", ["key", "value", "run_uuid"], params)
        _data.bulk_insert(conn, "tags", ["key", "value", "run_uuid"], tags)
        _data.bulk_insert(conn, "latest_metrics",
                          ["key", "value", "timestamp", "step", "is_nan", "run_uuid"], latest)
        _data.bulk_insert(conn, "metrics",
                          ["key", "value", "timestamp", "run_uuid", "step", "is_nan"], metrics)
        points = ((_data.HISTORY_KEY, v, ts, history_run_id, step, False)
                  for step, ts, v in _data.history(history_points))
        _data.bulk_insert(conn, "metrics",
                          ["key", "value", "timestamp", "run_uuid", "step", "is_nan"], points)
        last_step, last_ts, last_value = _data.last_history_point(history_points)
        conn.execute(sa.text(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (:k, :v, :t, :s, :n, :r)"
        ), {"k": _data.HISTORY_KEY, "v": last_value, "t": last_ts, "s": last_step, "n": False,
            "r": history_run_id})
    _data.settle(store.engine)
    return exp_id, history_run_id


def main() -> None:
    config = json.loads(sys.argv[1])
    from mlflow.entities import Metric
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(config["uri"], config["artifact_root"])
    out = {}
    start = time.perf_counter()
    exp_id, history_run = _load(store, config["runs"], config["history_points"])
    out["load_s"] = time.perf_counter() - start

    run_id = store.create_run(exp_id, "bench", _data.START, [], "writer").info.run_id
    batches = config["batches"]
    elapsed = 0.0
    for b in range(batches):
        batch = [Metric(f"m{k}", float(b), _data.START + b, b * 100 + s)
                 for k in range(10) for s in range(100)]
        t0 = time.perf_counter()
        store.log_batch(run_id, batch, [], [])
        elapsed += time.perf_counter() - t0
    out["log_batch_points_per_s"] = batches * 1000 / elapsed

    out.update(_data.search_cold_and_warm(store, exp_id, config["max_pages"]))

    sampled, out["downsample_s"], out["downsample_cpu_s"] = _data.best_of(
        lambda: store.get_metric_history_bulk_interval([history_run], _data.HISTORY_KEY, 320,
                                                       None, None))
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
    print(json.dumps(out))


if __name__ == "__main__":
    main()
