"""UI benchmark: from navigation to the first page of the runs table rendered, in headless
Chromium (Debian's, driven by Playwright), Skiff vs `mlflow server` 3.17.2's UI, each on its
own SQLite store loaded with the same runs over the REST API.

    python bench/ui/bench_ui.py                      # 10,000 runs, both peers
    python bench/ui/bench_ui.py --runs 100000 --peers skiff
    python bench/ui/bench_ui.py --chart-steps 100000 # also: 5 runs x N steps chart (Skiff)

Cold: a fresh browser context (empty cache). Warm: the same navigation again (median of 5).
Also reported: script bytes the page loaded. Never a timed test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(Path(__file__).parent))

import _common  # noqa: E402,F401 - puts core on sys.path
from _load import datasets  # noqa: E402

from skiff.testing.venvs import ensure_venv  # noqa: E402

API = "/api/2.0/mlflow"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage"]
NEWEST = "run-0000000"  # the newest run: first under the default order


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], port: int, workdir: Path):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(workdir / f"{name}.log", "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SKIFF_"))}
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        deadline = time.time() + 600
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: see {workdir / (name + '.log')}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{name} did not start")

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def start(name: str, workdir: Path, db_file: Path) -> Server:
    port = free_port()
    shutil.copy(db_file, workdir / db_file.name)
    db = f"sqlite:///{workdir / db_file.name}"
    if name == "skiff":
        argv = [sys.executable, "-m", "skiff.cli", "server", "--port", str(port),
                "--backend-store-uri", db, "--artifacts-destination", str(workdir / "art")]
    else:
        python = ensure_venv("mlflow3-server", ["mlflow==3.17.2"])
        argv = [str(python), "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
                str(port), "--backend-store-uri", db, "--artifacts-destination",
                str(workdir / "art-mlflow"), "--workers", "1"]
        # One worker: with more, uvicorn's supervisor kills workers that start slower than
        # its 5 s health check, which they do on a 2-core machine.
    return Server(name, argv, port, workdir)


def warm_up(server: Server) -> None:
    """A few concurrent requests first, so that no worker process pays its first-use imports
    (store, templates) inside a measurement: "cold" means the browser's cache, not the
    server's."""
    paths = [API + "/experiments/search?max_results=1"]
    if server.name == "skiff":  # compile the page templates (the Default experiment's table)
        paths += ["/", "/experiments/0"]

    def hit(_):
        for path in paths:
            urllib.request.urlopen(server.base + path, timeout=300).read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hit, range(8)))


def table_url(server: Server, exp_id: str) -> str:
    if server.name == "skiff":
        return f"{server.base}/experiments/{exp_id}"
    return f"{server.base}/#/experiments/{exp_id}/runs"


def _script_bytes(page) -> int:
    return int(page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.initiatorType === 'script')"
        ".reduce((n, e) => n + (e.decodedBodySize || 0), 0)"))


def measure_table(browser, url: str, warm_repeats: int = 5) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(300_000)
    newest = page.get_by_text(NEWEST, exact=True).first

    def once() -> float:
        began = time.perf_counter()
        page.goto(url, wait_until="commit")
        newest.wait_for(state="visible")
        return time.perf_counter() - began

    cold = once()
    script = _script_bytes(page)
    warm = []
    for _ in range(warm_repeats):
        page.goto("about:blank")
        warm.append(once())
    context.close()
    return {"cold": cold, "warm": statistics.median(warm), "script_kb": script / 1024}


def measure_chart(browser, server: Server, chart_runs: list[str]) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(120_000)
    runs = "&".join(f"run={r}" for r in chart_runs)
    url = f"{server.base}/charts?{runs}&key=curve"
    samples = []
    for _ in range(3):
        began = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.locator("figure.chart[data-rendered]").wait_for(state="attached")
        samples.append(time.perf_counter() - began)
        page.goto("about:blank")
    context.close()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--peers", default="skiff,mlflow")
    parser.add_argument("--chart-steps", type=int, default=0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = {}
    data = datasets(ensure_venv("mlflow3-server", ["mlflow==3.17.2"]), args.runs,
                    args.chart_steps)
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        for name in args.peers.split(","):
            workdir = Path(tmp) / name
            workdir.mkdir()
            server = start(name, workdir, data[name])
            try:
                warm_up(server)
                results[name] = measure_table(browser, table_url(server, data["experiment"][name]))
                if args.chart_steps and name == "skiff":
                    results[name]["chart"] = measure_chart(browser, server, data["chart_runs"])
                print(f"{name}: {results[name]}", flush=True)
            finally:
                server.stop()
        browser.close()
    print(f"\nFirst runs-table page, {args.runs:,} runs (headless Chromium, SQLite):")
    print(f"{'peer':8} {'cold s':>8} {'warm s':>8} {'script KB':>10}")
    for name, r in results.items():
        print(f"{name:8} {r['cold']:8.2f} {r['warm']:8.2f} {r['script_kb']:10.0f}")
        if "chart" in r:
            print(f"{'':8} chart of 5 runs x {args.chart_steps:,} steps: {r['chart']:.2f} s")
    if "skiff" in results and "mlflow" in results:
        for kind in ("cold", "warm"):
            ratio = results["skiff"][kind] / results["mlflow"][kind]
            print(f"skiff/mlflow {kind}: {ratio:.2f} (goal <= 0.20)")


if __name__ == "__main__":
    main()
