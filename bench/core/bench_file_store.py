"""File store: fluent `log_metric` one at a time and `search_runs` over 2,000 runs, Skiff vs
MLflow 3.17.2's file store, same worker script, same machine.

Target (issue 2): at least 5x MLflow on each.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _common import mlflow_python, report, run_json  # noqa: E402

N_METRICS = 3000
N_RUNS = 2000


def main():
    worker = str(HERE / "_file_store_worker.py")
    results = {}
    for tool, python in (("skiff", sys.executable), ("mlflow", str(mlflow_python()))):
        with tempfile.TemporaryDirectory() as tmp:
            results[tool] = run_json([python, worker, tool, tmp + "/mlruns", str(N_METRICS),
                                      str(N_RUNS)])
    s, m = results["skiff"], results["mlflow"]
    assert s["search_runs_found"] == m["search_runs_found"], (s, m)
    report(f"file store ({N_METRICS} log_metric calls; search over {N_RUNS} runs)", [
        ("fluent log_metric, one at a time", s["log_metric_per_s"], m["log_metric_per_s"], "/s"),
        ("search_runs filter + order_by, first 1000", s["search_runs_s"], m["search_runs_s"], "s"),
    ])


if __name__ == "__main__":
    main()
