"""Scoring-server benchmark: `skiff models serve` vs `mlflow models serve` 3.17.2, both with
--env-manager local and one worker, serving the same scikit-learn LogisticRegression on iris
(saved once by skiff.sklearn; MLflow loads it through its own sklearn flavor).

    python bench/scoring/bench_scoring.py                 # 3 s per load scenario
    python bench/scoring/bench_scoring.py --duration 10 --starts 5

Figures: POST /invocations with 1-row and 100-row dataframe_split bodies from 1 and 8
concurrent keep-alive clients (req/s and p99 latency), command start to the first
successful /ping, and load_model (a fresh interpreter: import + load; and a second load in a
warm one). The load clients are separate processes speaking raw HTTP/1.1, so the client
costs the same for both servers. Never a timed test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import _common  # noqa: E402,F401 - puts core on sys.path

from skiff.testing.venvs import ensure_venv  # noqa: E402

MLFLOW_REQS = ["mlflow==3.17.2", "scikit-learn==1.9.1", "skops==0.16.0"]
# Skiff gets its own virtualenv with the same numeric stack as MLflow's (and nothing else:
# the development venv holds torch, which scikit-learn's estimator discovery imports).
SKIFF_REQS = ["-e", str(ROOT / "core"), "-e", str(ROOT / "server"),
              "-e", str(ROOT / "plugins" / "flavor-sklearn"), "scikit-learn==1.9.1",
              "skops==0.16.0", "pandas==3.1.1", "numpy==2.4.6", "scipy==1.17.1"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_model(python: str, folder: str) -> tuple[str, list]:
    """Save the iris model with skiff.sklearn in a child interpreter (the bench process
    stays free of pandas/sklearn); returns the model path and the iris rows."""
    path = os.path.join(folder, "iris-model")
    code = f"""
import json, skiff.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=1000).fit(X, y)
skiff.sklearn.save_model(model, {path!r}, input_example=X.head(3))
print(json.dumps({{"columns": list(X.columns), "rows": X.values.tolist()}}))
"""
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return path, json.loads(out.stdout.strip().splitlines()[-1])


def request_bytes(port: int, body: bytes) -> bytes:
    head = (f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bytearray]:
    """One HTTP/1.1 response with Content-Length; returns (status, leftover bytes)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError(f"response without Content-Length: {head!r}")
    rest = bytearray(rest)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        rest += chunk
    return status, rest[length:]


def _client(port: int, payload: bytes, start_at: float, duration: float, out) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    for _ in range(20):  # warm the connection and the server's code paths
        sock.sendall(payload)
        status, buf = _read_response(sock, buf)
    while time.time() < start_at:
        time.sleep(0.001)
    latencies, errors = [], 0
    end = time.perf_counter() + duration
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        sock.sendall(payload)
        status, buf = _read_response(sock, buf)
        latencies.append(time.perf_counter() - t0)
        errors += status != 200
    sock.close()
    out.send((latencies, errors))


def load_test(port: int, body: bytes, clients: int, duration: float) -> dict:
    ctx = mp.get_context("fork")
    payload = request_bytes(port, body)
    start_at = time.time() + 1.0
    pipes, procs = [], []
    for _ in range(clients):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_client, args=(port, payload, start_at, duration, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    latencies, errors = [], 0
    for pipe in pipes:
        lat, err = pipe.recv()
        latencies += lat
        errors += err
    for proc in procs:
        proc.join()
    latencies.sort()
    return {"rps": len(latencies) / duration,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "errors": errors}


def ping_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = sock.recv(64)
        return data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def start_server(argv: list[str], port: int, log) -> tuple[subprocess.Popen, float]:
    # mlflow starts `uvicorn` by name: its virtualenv's bin must come first on PATH.
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(argv[0]),
                                                  os.environ.get("PATH", "")])}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    while not ping_ok(port):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {' '.join(argv)}")
        if time.perf_counter() - start > 120:
            raise RuntimeError("server did not answer /ping in 120 s")
        time.sleep(0.005)
    return proc, time.perf_counter() - start


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def serve_argv(tool: str, python: str, model: str, port: int) -> list[str]:
    command = str(Path(python).parent / tool)
    return [command, "models", "serve", "-m", model, "-p", str(port), "--env-manager", "local"]


LOAD_CODE = {
    "skiff": "import skiff.pyfunc as pyfunc",
    "mlflow": "import mlflow.pyfunc as pyfunc",
}


def _load_env() -> dict:
    # Bytecode is written and used, as in any installed environment (pip compiles on
    # install; uv and PYTHONDONTWRITEBYTECODE=1 leave every import to compile its source).
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_load_model(python: str, tool: str, model: str) -> tuple[float, float, float]:
    """In a fresh interpreter: (import of the pyfunc module + the first load_model, that
    first load_model alone (it imports scikit-learn and skops), a further load_model)."""
    code = f"""
import time, json
t0 = time.perf_counter()
{LOAD_CODE[tool]}
t1 = time.perf_counter()
pyfunc.load_model({model!r})
t2 = time.perf_counter()
pyfunc.load_model({model!r})
t3 = time.perf_counter()
print(json.dumps([t2 - t0, t2 - t1, t3 - t2]))
"""
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True,
                         env=_load_env())
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def time_loads(pythons: dict, tools: list[str], model: str, repeat: int) -> dict:
    """Median load_model figures per tool. One untimed run each first (it writes the
    bytecode), then the repetitions interleaved across tools, so that other work on a
    shared machine weighs on both alike."""
    for tool in tools:
        time_load_model(pythons[tool], tool, model)
    runs: dict[str, list] = {tool: [] for tool in tools}
    for _ in range(repeat):
        for tool in tools:
            runs[tool].append(time_load_model(pythons[tool], tool, model))
    return {tool: {key: statistics.median(x[i] for x in runs[tool])
                   for i, key in enumerate(("load_cold", "load_first", "load_warm"))}
            for tool in tools}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per scenario")
    parser.add_argument("--starts", type=int, default=3, help="start-to-ping repetitions")
    parser.add_argument("--loads", type=int, default=5, help="load_model repetitions")
    parser.add_argument("--peers", default="skiff,mlflow")
    parser.add_argument("--only-load", action="store_true",
                        help="only the load_model figures (no servers)")
    args = parser.parse_args()
    tools = args.peers.split(",")

    pythons = {"skiff": str(ensure_venv("bench-skiff-scoring", SKIFF_REQS)),
               "mlflow": str(ensure_venv("bench-mlflow3-models", MLFLOW_REQS))}
    folder = tempfile.mkdtemp(prefix="skiff-bench-scoring-")
    model, iris = make_model(pythons["skiff"], folder)
    bodies = {n: json.dumps({"dataframe_split": {"columns": iris["columns"],
                                                 "data": iris["rows"][:n]}}).encode()
              for n in (1, 100)}
    results: dict[str, dict] = {t: {} for t in tools}
    if not args.only_load:
        bench_servers(args, tools, pythons, model, bodies, results, folder)
    for tool, figures in time_loads(pythons, tools, model, args.loads).items():
        results[tool].update(figures)
        start = results[tool].get("start")
        print(f"{tool:6} start-to-ping {start if start is not None else float('nan'):.2f} s"
              f"  import+load_model {figures['load_cold']:.3f} s, first load_model "
              f"{figures['load_first']:.3f} s, again {figures['load_warm'] * 1000:.1f} ms",
              flush=True)
    if set(tools) >= {"skiff", "mlflow"}:
        _report(results, args.only_load)


def bench_servers(args, tools, pythons, model, bodies, results, folder) -> None:
    log = open(os.path.join(folder, "servers.log"), "ab")
    for tool in tools:
        starts = []
        for _ in range(args.starts):
            port = free_port()
            proc, took = start_server(serve_argv(tool, pythons[tool], model, port), port,
                                      log)
            starts.append(took)
            stop_server(proc)
        results[tool]["start"] = statistics.median(starts)
        port = free_port()
        proc, _ = start_server(serve_argv(tool, pythons[tool], model, port), port, log)
        try:
            for rows in (1, 100):
                for clients in (1, 8):
                    res = load_test(port, bodies[rows], clients, args.duration)
                    results[tool][(rows, clients)] = res
                    print(f"{tool:6} rows={rows:3} clients={clients}: {res['rps']:8.1f} req/s"
                          f"  p50 {res['p50_ms']:6.2f} ms  p99 {res['p99_ms']:6.2f} ms"
                          f"  errors {res['errors']}", flush=True)
        finally:
            stop_server(proc)


def _report(results: dict, only_load: bool = False) -> None:
    sk, ml = results["skiff"], results["mlflow"]
    if not only_load:
        _report_servers(sk, ml)
    print("\n== start and load (lower is better; ratio = mlflow / skiff)")
    keys = (("start", "command start to first /ping (s)"),
            ("load_cold", "import + load_model, fresh (s)"),
            ("load_first", "first load_model call (s)"),
            ("load_warm", "load_model again (s)"))
    for key, label in keys[1:] if only_load else keys:
        print(f"{label:36} {sk[key]:9.3f} {ml[key]:9.3f} {ml[key] / sk[key]:6.2f}x")


def _report_servers(sk: dict, ml: dict) -> None:
    print("\n== /invocations (dataframe_split), 1 worker each")
    print(f"{'scenario':24} {'skiff req/s':>12} {'mlflow req/s':>13} {'ratio':>7}"
          f" {'skiff p99':>10} {'mlflow p99':>11}")
    for rows in (1, 100):
        for clients in (1, 8):
            a, b = sk[(rows, clients)], ml[(rows, clients)]
            print(f"{f'{rows} rows, {clients} clients':24} {a['rps']:12.1f} {b['rps']:13.1f}"
                  f" {a['rps'] / b['rps']:6.2f}x {a['p99_ms']:8.2f}ms {b['p99_ms']:9.2f}ms")


if __name__ == "__main__":
    main()
