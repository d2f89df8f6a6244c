"""Tracking-server benchmark: Skiff vs `mlflow server` 3.17.2 vs FastTrackML 0.6.0, each on
SQLite (or PostgreSQL for Skiff with --postgres), driven over HTTP by the same raw client.

    python bench/server/bench_server.py                  # quick: 2,000 runs
    python bench/server/bench_server.py --runs 10000     # the issue's figures
    python bench/server/bench_server.py --peers skiff --runs 100000 --page-all

Figures: start to healthy, idle memory (PSS of every server process), one-point log-metric
req/s (1 client), log-batch points/s of 1000-point batches (1 and 8 clients, with a count
showing nothing was lost), runs/search first page (filter + order, 1000 runs), paging
through every run, metrics/get-history of 100,000 points. Never a timed test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import _common  # noqa: E402,F401 - puts core on sys.path
import requests  # noqa: E402

from skiff.testing.venvs import ensure_venv  # noqa: E402

API = "/api/2.0/mlflow"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_pids(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def pss_mb(pid: int) -> float:
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Server:
    def __init__(self, name: str, argv: list[str], port: int, workdir: Path):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(workdir / f"{name}.log", "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=_clean_env())

    def wait_healthy(self, timeout=600) -> float:
        while time.perf_counter() - self.started < timeout:
            if self.proc.poll() is not None:
                self.log.flush()
                tail = Path(self.log.name).read_text(errors="replace")[-1500:]
                raise RuntimeError(f"{self.name} exited: {tail}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return time.perf_counter() - self.started
            except requests.RequestException:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} not healthy in {timeout}s")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SKIFF_"))}


def start(name: str, workdir: Path, args) -> Server:
    port = free_port()
    db = f"sqlite:///{workdir / (name + '.db')}"
    if name == "skiff":
        store = args.postgres or db
        argv = [sys.executable, "-m", "skiff.cli", "server", "--port", str(port),
                "--backend-store-uri", store, "--artifacts-destination", str(workdir / "art")]
        if args.skiff_workers:
            argv += ["--workers", str(args.skiff_workers)]
    elif name == "mlflow":
        python = ensure_venv("mlflow3-server", ["mlflow==3.17.2"])
        argv = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
                str(port), "--backend-store-uri", db, "--artifacts-destination",
                str(workdir / "art-mlflow")]
        if args.mlflow_workers:
            argv += ["--workers", str(args.mlflow_workers)]
    else:
        python = ensure_venv("fasttrackml", ["fasttrackml==0.6.0"])
        # FastTrackML wants sqlite:// followed by the absolute path (three slashes in all).
        argv = [str(Path(python).parent / "fml"), "server", "--listen-address",
                f"127.0.0.1:{port}", "--database-uri", f"sqlite://{workdir / 'fml.db'}",
                "--default-artifact-root",
                str(workdir / "art-fml")]
    return Server(name, argv, port, workdir)


class Client:
    """One keep-alive HTTP/1.1 connection (http.client): the leanest Python client, so the
    figures measure the servers, not the client; every peer is driven by the same one."""

    def __init__(self, url: str):
        self.base = url
        host, port = url.split("//", 1)[1].rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=600)

    def request(self, method: str, path: str, body: bytes | None = None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError):  # server closed keep-alive
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read()


def call(session, method, path, body=None, data=None):
    if method == "GET":
        query = urllib.parse.urlencode(body or {}, doseq=True)
        status, content = session.request("GET", API + path + ("?" + query if query else ""))
    else:
        payload = data if data is not None else json.dumps(body)
        status, content = session.request(method, API + path, payload.encode()
                                          if isinstance(payload, str) else payload)
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {content[:300]!r}")
    return json.loads(content) if content else {}


def new_session(url):
    return Client(url)


def make_run(session, exp_id, name="r"):
    run = call(session, "POST", "/runs/create",
               {"experiment_id": exp_id, "start_time": int(time.time() * 1000), "run_name": name})
    return run["run"]["info"]["run_id"]


def bench_log_metric(url, exp_id, n):
    s = new_session(url)
    rid = make_run(s, exp_id)
    bodies = [json.dumps({"run_id": rid, "key": "m", "value": i * 0.5, "timestamp": 1000 + i,
                          "step": i}) for i in range(n)]
    for b in bodies[:50]:
        call(s, "POST", "/runs/log-metric", data=b)
    t = time.perf_counter()
    for b in bodies[50:]:
        call(s, "POST", "/runs/log-metric", data=b)
    return (n - 50) / (time.perf_counter() - t)


def _batches(rid, key, count, per=1000, start=0):
    for b in range(count):
        metrics = [{"key": key, "value": float(i), "timestamp": 1000 + i, "step": i}
                   for i in range(start + b * per, start + (b + 1) * per)]
        yield json.dumps({"run_id": rid, "metrics": metrics})


def bench_log_batch(url, exp_id, clients, batches_per_client, rounds=3):
    """Points per second of ``clients`` clients each sending ``batches_per_client`` batches,
    the median of ``rounds`` rounds (each on new runs): one database checkpoint or a
    neighbour's burst on the machine would otherwise decide a sub-second figure. Every
    point of every round is counted back."""
    rates, complete = [], True
    for _ in range(rounds):
        rate, ok = _log_batch_round(url, exp_id, clients, batches_per_client)
        rates.append(rate)
        complete = complete and ok
    return statistics.median(rates), complete


def _log_batch_round(url, exp_id, clients, batches_per_client):
    s = new_session(url)
    run_ids = [make_run(s, exp_id, f"batch-{i}") for i in range(clients)]
    payloads = [list(_batches(rid, "pts", batches_per_client)) for rid in run_ids]
    errors = []

    def work(i):
        session = new_session(url)
        try:
            for body in payloads[i]:
                call(session, "POST", "/runs/log-batch", data=body)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise errors[0]
    stored = sum(len(call(s, "GET", "/metrics/get-history",
                          {"run_id": rid, "metric_key": "pts"}).get("metrics", []))
                 for rid in run_ids)
    sent = clients * batches_per_client * 1000
    return sent / elapsed, stored == sent


def seed_runs(url, exp_id, n):
    """n runs, each with metric m and param p, created by 8 parallel clients."""
    def work(lo, hi):
        s = new_session(url)
        for i in range(lo, hi):
            rid = make_run(s, exp_id, f"run-{i}")
            call(s, "POST", "/runs/log-batch", {"run_id": rid, "metrics": [
                {"key": "m", "value": (i * 7919 % 1000) / 1000, "timestamp": 1, "step": 0}],
                "params": [{"key": "p", "value": str(i % 10)}]})

    step = (n + 7) // 8
    threads = [threading.Thread(target=work, args=(lo, min(n, lo + step)))
               for lo in range(0, n, step)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def analyze(uri: str) -> None:
    """PostgreSQL plans from table statistics, which autovacuum refreshes within a minute
    of a bulk load; a search right after seeding would otherwise be planned for empty
    tables. The SQL-store benchmark does the same for both stores."""
    import psycopg

    with psycopg.connect(uri.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute("ANALYZE")


def bench_search(url, exp_id, repeat=5):
    s = new_session(url)
    body = {"experiment_ids": [exp_id], "filter": "metrics.m > 0.2 and params.p != '3'",
            "order_by": ["metrics.m DESC"], "max_results": 1000}
    call(s, "POST", "/runs/search", body)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        call(s, "POST", "/runs/search", body)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def page_all(url, exp_id, n):
    s = new_session(url)
    seen, token, t = 0, None, time.perf_counter()
    try:
        while True:
            body = {"experiment_ids": [exp_id], "max_results": 1000}
            if token:
                body["page_token"] = token
            answer = call(s, "POST", "/runs/search", body)
            seen += len(answer.get("runs", []))
            token = answer.get("next_page_token")
            if not token:
                break
    except RuntimeError as exc:
        return f"broke at {seen}: {str(exc)[:80]}"
    return f"{seen}/{n} runs in {time.perf_counter() - t:.2f} s"


def bench_history(url, exp_id, points, repeat=3):
    s = new_session(url)
    rid = make_run(s, exp_id, "history")
    for body in _batches(rid, "h", points // 1000):
        call(s, "POST", "/runs/log-batch", data=body)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        got = call(s, "GET", "/metrics/get-history", {"run_id": rid, "metric_key": "h"})
        samples.append(time.perf_counter() - t)
    assert len(got.get("metrics", [])) == points, len(got.get("metrics", []))
    return statistics.median(samples)


def measure(name, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    server = start(name, workdir, args)
    out = {}
    try:
        out["start_to_healthy_s"] = server.wait_healthy()
        time.sleep(2)
        out["idle_pss_mb"] = pss_mb(server.proc.pid)
        s = new_session(server.url)
        exp = call(s, "POST", "/experiments/create", {"name": f"bench-{uuid.uuid4().hex[:6]}"})
        exp_id = exp["experiment_id"]
        out["log_metric_req_s"] = bench_log_metric(server.url, exp_id, args.metric_requests)
        rate, ok = bench_log_batch(server.url, exp_id, 1, args.batches)
        out["log_batch_1_pts_s"], out["log_batch_1_complete"] = rate, ok
        rate, ok = bench_log_batch(server.url, exp_id, 8, args.batches)
        out["log_batch_8_pts_s"], out["log_batch_8_complete"] = rate, ok
        out["history_s"] = bench_history(server.url, exp_id, args.history_points)
        search_exp = call(s, "POST", "/experiments/create",
                          {"name": f"search-{uuid.uuid4().hex[:6]}"})["experiment_id"]
        t = time.perf_counter()
        seed_runs(server.url, search_exp, args.runs)
        out["seed_runs_s"] = time.perf_counter() - t
        if name == "skiff" and args.postgres:
            analyze(args.postgres)
        out["search_first_page_s"] = bench_search(server.url, search_exp)
        if args.page_all:
            out["page_all"] = page_all(server.url, search_exp, args.runs)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


ROWS = [
    ("start to healthy", "start_to_healthy_s", "s", False),
    ("idle memory (PSS, all processes)", "idle_pss_mb", "MB", False),
    ("log-metric, 1 client", "log_metric_req_s", "req/s", True),
    ("log-batch 1000 pts, 1 client", "log_batch_1_pts_s", "pts/s", True),
    ("log-batch 1000 pts, 8 clients", "log_batch_8_pts_s", "pts/s", True),
    ("get-history (points below)", "history_s", "s", False),
    ("runs/search first 1000 (filter+order)", "search_first_page_s", "s", False),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", default="skiff,mlflow,fasttrackml")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=20,
                        help="1000-point batches per client in each of 3 rounds")
    parser.add_argument("--metric-requests", type=int, default=2000)
    parser.add_argument("--history-points", type=int, default=100_000)
    parser.add_argument("--page-all", action="store_true")
    parser.add_argument("--postgres", default=None,
                        help="a postgresql:// URI for Skiff's store instead of SQLite")
    parser.add_argument("--skiff-workers", type=int, default=None)
    parser.add_argument("--mlflow-workers", type=int, default=None)
    args = parser.parse_args()
    results = {}
    for name in args.peers.split(","):
        print(f"-- {name} ...", flush=True)
        try:
            results[name] = measure(name, args)
        except Exception as exc:  # noqa: BLE001 - one broken peer must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(results[name]), flush=True)
    names = list(results)
    print(f"\n{'measure':40}" + "".join(f"{n:>14}" for n in names) +
          "".join(f"{'skiff/' + n:>16}" for n in names if n != "skiff"))
    for label, key, unit, higher_better in ROWS:
        if key == "history_s":
            label = f"get-history {args.history_points} points"
        if key == "search_first_page_s":
            label += f" of {args.runs}"
        cells = [results[n].get(key) for n in names]
        line = f"{label:40}" + "".join(
            f"{c:>10.4g} {unit[:3]:3}" if isinstance(c, (int, float)) else f"{'-':>14}"
            for c in cells)
        ours = results.get("skiff", {}).get(key)
        for n in names:
            if n == "skiff":
                continue
            theirs = results[n].get(key)
            if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and ours \
                    and theirs:
                ratio = ours / theirs if higher_better else theirs / ours
                line += f"{ratio:>15.1f}x"
            else:
                line += f"{'-':>16}"
        print(line)
    for n in names:
        extra = {k: v for k, v in results[n].items()
                 if k in ("log_batch_1_complete", "log_batch_8_complete", "page_all",
                          "seed_runs_s", "error")}
        print(f"{n}: {extra}")
    print("(ratios: how many times better Skiff is; > 1 means Skiff is ahead)")


if __name__ == "__main__":
    main()
