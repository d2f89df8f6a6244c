"""Drive the tracking server's REST API with plain HTTP (no client library).

    python rest_client.py --tracking-uri http://127.0.0.1:5000

Creates an experiment and a run, logs parameters, metrics and tags, finishes the run, then
reads everything back and searches for it. The same calls work against `skiff server` and
`mlflow server` (MLflow's /api/2.0/mlflow routes). Prints a JSON summary.
"""

import argparse
import json
import time
import urllib.error
import urllib.parse
import urllib.request


class RestClient:
    def __init__(self, base_url):
        self.base = base_url.rstrip("/") + "/api/2.0/mlflow/"

    def call(self, method, endpoint, body=None, query=None):
        url = self.base + endpoint
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            error = json.loads(exc.read() or b"{}")
            raise RuntimeError(f"{method} {endpoint} -> {exc.code} {error}") from None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracking-uri", default="http://127.0.0.1:5000")
    parser.add_argument("--experiment-name", default=f"rest-example-{int(time.time())}")
    args = parser.parse_args()
    api = RestClient(args.tracking_uri)
    now = int(time.time() * 1000)

    experiment_id = api.call("POST", "experiments/create",
                             {"name": args.experiment_name})["experiment_id"]
    run = api.call("POST", "runs/create", {"experiment_id": experiment_id, "start_time": now,
                                           "run_name": "rest-run",
                                           "tags": [{"key": "source", "value": "rest"}]})["run"]
    run_id = run["info"]["run_id"]
    api.call("POST", "runs/log-batch", {
        "run_id": run_id,
        "params": [{"key": "alpha", "value": "0.5"}, {"key": "l1_ratio", "value": "0.1"}],
        "metrics": [{"key": "rmse", "value": 0.9 - 0.1 * step, "timestamp": now + step,
                     "step": step} for step in range(3)],
        "tags": [{"key": "stage", "value": "demo"}],
    })
    api.call("POST", "runs/log-metric", {"run_id": run_id, "key": "r2", "value": 0.42,
                                         "timestamp": now, "step": 0})
    api.call("POST", "runs/set-tag", {"run_id": run_id, "key": "reviewed", "value": "yes"})
    api.call("POST", "runs/update", {"run_id": run_id, "status": "FINISHED",
                                     "end_time": int(time.time() * 1000)})

    fetched = api.call("GET", "runs/get", query={"run_id": run_id})["run"]
    history = api.call("GET", "metrics/get-history", query={"run_id": run_id,
                                                            "metric_key": "rmse"})["metrics"]
    found = api.call("POST", "runs/search", {"experiment_ids": [experiment_id],
                                             "filter": "metrics.rmse < 0.8 and "
                                                       "params.alpha = '0.5'"}).get("runs", [])
    by_name = api.call("GET", "experiments/get-by-name",
                       query={"experiment_name": args.experiment_name})["experiment"]
    data = fetched["data"]
    print(json.dumps({
        "experiment_id": by_name["experiment_id"],
        "run_id": run_id,
        "status": fetched["info"]["status"],
        "params": {p["key"]: p["value"] for p in data.get("params", [])},
        "metrics": {m["key"]: m["value"] for m in data.get("metrics", [])},
        "tags": {t["key"]: t["value"] for t in data.get("tags", [])
                 if not t["key"].startswith("mlflow.")},
        "rmse_history": [[m["step"], m["value"]] for m in history],
        "search_hits": [r["info"]["run_id"] for r in found],
    }, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
