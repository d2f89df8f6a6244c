"""Runs inside either environment: `python _file_store_worker.py skiff|mlflow DIR N_METRICS N_RUNS`.
Prints one JSON line of timings. The same code drives both, since Skiff uses MLflow's names."""

import importlib
import json
import os
import sys
import time

tool, root, n_metrics, n_runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
lib = importlib.import_module(tool)
lib.set_tracking_uri(root)
out = {}

with lib.start_run():
    start = time.perf_counter()
    for i in range(n_metrics):
        lib.log_metric("loss", 1.0 / (i + 1), step=i)
    out["log_metric_per_s"] = n_metrics / (time.perf_counter() - start)

client = lib.MlflowClient()
exp_id = client.create_experiment("search-bench")
for i in range(n_runs):
    run = client.create_run(exp_id)
    rid = run.info.run_id
    client.log_batch(rid, metrics=[lib.entities.Metric("rmse", (i % 100) / 100, 0, 0)],
                     params=[lib.entities.Param("alpha", str((i % 10) / 10))])
    client.set_terminated(rid)

start = time.perf_counter()
runs = lib.search_runs([exp_id], "metrics.rmse < 0.5 and params.alpha = '0.1'",
                       order_by=["metrics.rmse"], output_format="list", max_results=1000)
out["search_runs_s"] = time.perf_counter() - start
out["search_runs_found"] = len(runs)
print(json.dumps(out))
