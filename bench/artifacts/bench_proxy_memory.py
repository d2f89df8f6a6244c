"""A large artifact up and down through ``skiff server``'s artifact proxy, watching the server.

    python bench/artifacts/bench_proxy_memory.py                      # 2 GB, local and s3
    python bench/artifacts/bench_proxy_memory.py --size-mb 512 --destinations s3

For each destination (a local folder; a bucket on moto's S3 server) a real ``skiff server``
(one gunicorn worker) is started with its own empty TMPDIR. Skiff's client uploads the file
to ``mlflow-artifacts:`` and downloads it again while a sampler reads, every 50 ms:

* the resident memory of the server's whole process tree (gunicorn master and worker),
  as growth over the level measured after a 1 MB warm-up transfer;
* the bytes under the server's TMPDIR (a temporary copy would show there) and, for a local
  destination, the bytes under the destination (a second copy beside the final file would
  push it above the file's size).

It then checks the download hash against the original. Pass: RSS growth under ``--limit-mb``
(200), no temporary bytes, at most one copy in a local destination, identical bytes.
Throughput is printed too; on a shared machine treat it as rough.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from skiff.testing import servers

MiB = 1024 * 1024


# -- the data ---------------------------------------------------------------------------------
def make_file(path: Path, size_mb: int) -> str:
    """``size_mb`` MiB of incompressible bytes; returns their SHA-256."""
    sha = hashlib.sha256()
    block = os.urandom(4 * MiB)
    with open(path, "wb") as f:
        for i in range(size_mb // 4):
            data = block[i % 4093:] + block[:i % 4093]  # distinct blocks, cheap to make
            sha.update(data)
            f.write(data)
        tail = os.urandom((size_mb % 4) * MiB)
        sha.update(tail)
        f.write(tail)
    return sha.hexdigest()


def sha256_of(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            sha.update(chunk)
    return sha.hexdigest()


# -- watching the server ----------------------------------------------------------------------
def tree_rss(root_pid: int) -> int:
    """Resident bytes of ``root_pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def bytes_under(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # renamed or removed between listing and stat
                pass
    return total


class Sampler(threading.Thread):
    """Peak server RSS and peak bytes in the watched folders while a transfer runs."""

    def __init__(self, pid: int, tmp_dir: Path, destination: Path | None):
        super().__init__(daemon=True)
        self.pid, self.tmp_dir, self.destination = pid, tmp_dir, destination
        self.peak_rss = self.peak_tmp = self.peak_dest = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(0.05)
        self.sample()

    def sample(self) -> None:
        self.peak_rss = max(self.peak_rss, tree_rss(self.pid))
        self.peak_tmp = max(self.peak_tmp, bytes_under(self.tmp_dir))
        if self.destination is not None:
            self.peak_dest = max(self.peak_dest, bytes_under(self.destination))

    def stop(self) -> Sampler:
        self._done.set()
        self.join()
        return self


# -- servers ----------------------------------------------------------------------------------
def start_skiff(work: Path, destination: str, env: dict) -> tuple[subprocess.Popen, int, Path]:
    port = servers.free_port()
    tmp_dir = work / f"server-tmp-{port}"
    tmp_dir.mkdir()
    server_env = {k: v for k, v in os.environ.items() if not k.startswith(("SKIFF_", "MLFLOW_"))}
    server_env.update(env, TMPDIR=str(tmp_dir))
    log = open(work / f"server-{port}.log", "wb")  # noqa: SIM115 - kept for the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "skiff.cli", "server", "--port", str(port), "--workers", "1",
         "--backend-store-uri", str(work / f"mlruns-{port}"),
         "--artifacts-destination", destination],
        cwd=work, env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return proc, port, tmp_dir
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    stop(proc)
    raise SystemExit(f"skiff server did not start: {(work / f'server-{port}.log').read_text()}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    servers.LocalServer("skiff", "", 0, proc, "").stop()


def open_destination(name: str, work: Path):
    """(destination URI, server env, local folder to watch or None, emulator or None)."""
    if name == "local":
        folder = work / "destination"
        folder.mkdir()
        return str(folder), {}, folder, None
    if name == "s3":
        import boto3

        moto = servers.start_moto()
        boto3.client("s3", endpoint_url=moto.url, aws_access_key_id="testing",
                     aws_secret_access_key="testing", region_name="us-east-1"
                     ).create_bucket(Bucket="bench-proxy")
        return "s3://bench-proxy/artifacts", dict(moto.env), None, moto
    raise SystemExit(f"unknown destination {name!r} (local, s3)")


# -- one destination --------------------------------------------------------------------------
def bench_destination(name: str, source: Path, expected_sha: str, work: Path,
                      extra_env: dict) -> dict:
    from skiff.artifacts.resolve import get_artifact_repository

    uri, env, watched, emulator = open_destination(name, work)
    proc, port, tmp_dir = start_skiff(work, uri, {**env, **extra_env})
    try:
        repo = get_artifact_repository(f"mlflow-artifacts://127.0.0.1:{port}/bench-{name}")
        warm = work / "warm.bin"
        warm.write_bytes(os.urandom(MiB))
        repo.log_artifact(str(warm))  # imports, clients and pools exist before measuring
        repo.download_artifacts("warm.bin", tempfile.mkdtemp(dir=work))
        time.sleep(0.5)
        baseline = tree_rss(proc.pid)
        size = source.stat().st_size

        sampler = Sampler(proc.pid, tmp_dir, watched)
        sampler.start()
        start = time.perf_counter()
        repo.log_artifact(str(source), "model")
        up_seconds = time.perf_counter() - start
        up = sampler.stop()
        # A local destination holds the warm-up file and the artifact, nothing more.
        one_copy = size + MiB

        out_dir = tempfile.mkdtemp(dir=work)
        sampler = Sampler(proc.pid, tmp_dir, watched)
        sampler.start()
        start = time.perf_counter()
        local = repo.download_artifacts(f"model/{source.name}", out_dir)
        down_seconds = time.perf_counter() - start
        down = sampler.stop()
        same = sha256_of(local) == expected_sha
        os.remove(local)
        return {
            "destination": name, "size": size, "baseline": baseline,
            "up_s": up_seconds, "down_s": down_seconds,
            "up_growth": up.peak_rss - baseline, "down_growth": down.peak_rss - baseline,
            "tmp_bytes": max(up.peak_tmp, down.peak_tmp),
            "dest_extra": (max(up.peak_dest, down.peak_dest) - one_copy) if watched else 0,
            "identical": same,
        }
    finally:
        stop(proc)
        if emulator is not None:
            emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--destinations", default="local,s3")
    parser.add_argument("--limit-mb", type=int, default=200, help="allowed RSS growth")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the server, e.g. SKIFF_ARTIFACT_STREAM_WORKERS=2")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.server_env)
    work = Path(tempfile.mkdtemp(prefix="skiff-bench-proxy-"))
    failures = []
    try:
        source = work / f"artifact-{uuid.uuid4().hex[:6]}.bin"
        print(f"writing {args.size_mb} MiB ...", flush=True)
        expected = make_file(source, args.size_mb)
        rows = []
        for name in args.destinations.split(","):
            print(f"{name}: up and down through the proxy ...", flush=True)
            rows.append(bench_destination(name.strip(), source, expected, work, extra_env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'destination':12s}{'MB':>7s}{'up MB/s':>9s}{'down MB/s':>10s}"
          f"{'base RSS':>10s}{'RSS +up':>9s}{'RSS +down':>10s}{'tmp B':>8s}{'extra B':>9s}"
          f"{'same':>6s}")
    for r in rows:
        mb = r["size"] / 1e6
        print(f"{r['destination']:12s}{mb:7.0f}{mb / r['up_s']:9.1f}{mb / r['down_s']:10.1f}"
              f"{r['baseline'] / MiB:9.0f}M{r['up_growth'] / MiB:8.0f}M"
              f"{r['down_growth'] / MiB:9.0f}M{r['tmp_bytes']:8d}{max(r['dest_extra'], 0):9d}"
              f"{'yes' if r['identical'] else 'NO':>6s}")
        limit = args.limit_mb * MiB
        if max(r["up_growth"], r["down_growth"]) >= limit:
            failures.append(f"{r['destination']}: server RSS grew by "
                            f"{max(r['up_growth'], r['down_growth']) / MiB:.0f} MiB")
        if r["tmp_bytes"]:
            failures.append(f"{r['destination']}: {r['tmp_bytes']} bytes in the server's TMPDIR")
        if r["dest_extra"] > 0:
            failures.append(f"{r['destination']}: a second copy in the destination "
                            f"({r['dest_extra']} bytes over one)")
        if not r["identical"]:
            failures.append(f"{r['destination']}: downloaded bytes differ")
    print("\n" + ("PASS" if not failures else "FAIL:\n  " + "\n  ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
