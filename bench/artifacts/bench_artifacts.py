"""Artifact throughput: Skiff's repositories vs MLflow 3.17.2's, on the same local emulators
(moto for S3, fake-gcs-server or gcp-storage-emulator for GCS, Azurite for Azure Blob).

    python bench/artifacts/bench_artifacts.py                    # 200 MB file, 2000 files
    python bench/artifacts/bench_artifacts.py --big              # the issue's sizes: 1 GB file,
                                                                 # 10,000 files
    python bench/artifacts/bench_artifacts.py --backends s3 --file-mb 50 --files 500

Each operation runs in a fresh process (``_worker.py``); MLflow runs in its own virtualenv
built by ``skiff.testing.venvs.ensure_venv``. Downloads are checked byte for byte. Ratios are
MLflow's time / Skiff's time (above 1: Skiff is faster).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from skiff.testing import servers
from skiff.testing.venvs import ensure_venv

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_worker.py"
MLFLOW_REQUIREMENTS = ["mlflow-skinny==3.17.2", "boto3", "google-cloud-storage",
                       "azure-storage-blob", "azure-identity"]
OPS = ("upload_file", "download_file", "upload_dir", "download_dir")


def make_data(root: Path, file_mb: int, n_files: int) -> tuple[Path, Path]:
    big = root / "big.bin"
    with open(big, "wb") as f:
        block = os.urandom(4 * 1024 * 1024)
        for i in range(file_mb // 4):
            f.write(block[i % 7:] + block[:i % 7])  # distinct blocks, cheap to make
        f.write(os.urandom((file_mb % 4) * 1024 * 1024))
    many = root / "many"
    for i in range(n_files):
        sub = many / f"d{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05d}.txt").write_bytes(os.urandom(1024 + (i * 37) % 4096))
    os.sync()  # flush the new data now, not during whichever tool runs first
    return big, many


def start_backend(name: str):
    """(server, env for both tools, uri factory)."""
    if name == "s3":
        server = servers.start_moto()
        env = dict(server.env)
        import boto3

        bucket = "bench-bucket"
        boto3.client("s3", endpoint_url=server.url, aws_access_key_id="testing",
                     aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=bucket)
        return server, env, lambda tag: f"s3://{bucket}/{tag}"
    if name == "gcs":
        server = servers.start_gcs_emulator()
        env = dict(server.env)
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        os.environ.update(env)
        storage.Client(project="bench", credentials=AnonymousCredentials()).create_bucket(
            "bench-bucket")
        return server, env, lambda tag: f"gs://bench-bucket/{tag}"
    if name == "azure":
        server = servers.start_azurite()
        env = dict(server.env)
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(
            env["AZURE_STORAGE_CONNECTION_STRING"]).create_container("bench")
        host = "devstoreaccount1.blob.core.windows.net"
        return server, env, lambda tag: f"wasbs://bench@{host}/{tag}"
    raise SystemExit(f"unknown backend {name}")


def run_op(python: str, tool: str, uri: str, op: str, local: Path, env: dict) -> dict:
    env = {**os.environ, **env}
    if tool == "skiff":  # only the artifact plugins: other plugins in the venv are not measured
        env["SKIFF_LOAD_PLUGINS"] = "artifacts-s3,artifacts-gcs,artifacts-azure"
    done = subprocess.run([python, str(WORKER), tool, uri, op, str(local)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} {op} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_same(result: dict, op: str, big: Path, many: Path) -> None:
    out = Path(result["out"])
    if op == "download_file":
        assert filecmp.cmp(out / big.name, big, shallow=False), "file differs"
    elif op == "download_dir":
        compare = filecmp.dircmp(out / "many", many)
        assert not (compare.left_only or compare.right_only or compare.diff_files)
        for sub in compare.common_dirs:
            inner = filecmp.dircmp(out / "many" / sub, many / sub)
            assert not (inner.left_only or inner.right_only), f"missing files in {sub}"
            _, mismatch, errors = filecmp.cmpfiles(out / "many" / sub, many / sub,
                                                   inner.common_files, shallow=False)
            assert not mismatch and not errors, f"files differ in {sub}"
    shutil.rmtree(out, ignore_errors=True)


def bench_backend(name: str, pythons: dict, big: Path, many: Path, sizes: dict,
                  repeat: int) -> list:
    """Best of ``repeat`` per tool and operation; tools alternate run by run, each going
    first in turn, so a change in machine load hits both alike."""
    server, env, uri_for = start_backend(name)
    uris = {tool: uri_for(f"{tool}-{uuid.uuid4().hex[:8]}") for tool in pythons}
    rows = []
    try:
        with server:
            # One untimed round trip of the big file first: a fresh emulator's first
            # transfer pays its own start-up (fake-gcs-server: ~1.5x the time of later
            # ones), which would otherwise fall on whichever tool goes first.
            warm = uri_for(f"warm-{uuid.uuid4().hex[:8]}")
            for op in ("upload_file", "download_file"):
                check_same(run_op(sys.executable, "skiff", warm, op, big, env), op, big, many)
            times: dict = {}
            for op in OPS:
                local = big if "file" in op else many
                for turn in range(repeat):
                    order = list(pythons.items())
                    for tool, python in order[turn % len(order):] + order[:turn % len(order)]:
                        result = run_op(python, tool, uris[tool], op, local, env)
                        check_same(result, op, big, many)
                        key = (tool, op)
                        times[key] = min(times.get(key, float("inf")), result["seconds"])
                        print(f"  {name:5s} {tool:6s} {op:13s} {result['seconds']:8.2f}s",
                              flush=True)
            for op in OPS:
                rows.append((name, op, times[("skiff", op)], times.get(("mlflow", op)),
                             sizes["file" if "file" in op else "dir"]))
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file-mb", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--big", action="store_true", help="1 GB file and 10,000 files")
    parser.add_argument("--backends", default="s3,gcs,azure")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    if args.big:
        args.file_mb, args.files = 1024, 10_000
    pythons = {"skiff": sys.executable}
    if not args.skip_mlflow:
        pythons["mlflow"] = str(ensure_venv("bench-mlflow3", MLFLOW_REQUIREMENTS))
    root = Path(tempfile.mkdtemp(prefix="skiff-bench-artifacts-"))
    try:
        big, many = make_data(root, args.file_mb, args.files)
        dir_bytes = sum(p.stat().st_size for p in many.rglob("*") if p.is_file())
        sizes = {"file": big.stat().st_size, "dir": dir_bytes}
        print(f"data: 1 file of {args.file_mb} MB, {args.files} files ({dir_bytes / 1e6:.1f}"
              f" MB); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (the "
              f"emulators share them: on a busy machine the figures are rough)", flush=True)
        rows = []
        for name in args.backends.split(","):
            rows += bench_backend(name.strip(), pythons, big, many, sizes, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'backend':8s}{'operation':15s}{'skiff MB/s':>12s}{'mlflow MB/s':>13s}"
          f"{'ratio':>8s}")
    for name, op, skiff_s, mlflow_s, size in rows:
        skiff_rate = size / skiff_s / 1e6
        mlflow_rate = f"{size / mlflow_s / 1e6:13.1f}" if mlflow_s else f"{'-':>13s}"
        ratio = f"{mlflow_s / skiff_s:7.2f}x" if mlflow_s else f"{'-':>8s}"
        print(f"{name:8s}{op:15s}{skiff_rate:12.1f}{mlflow_rate}{ratio}")


if __name__ == "__main__":
    main()
