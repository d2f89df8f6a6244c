"""Artifact throughput: Skiff's repositories vs MLflow 3.17.2's, on the same local emulators
(moto for S3, fake-gcs-server or gcp-storage-emulator for GCS, Azurite for Azure Blob).

    python bench/artifacts/bench_artifacts.py                    # 200 MB file, 2000 files
    python bench/artifacts/bench_artifacts.py --big              # the issue's sizes: 1 GB file,
                                                                 # 10,000 files
    python bench/artifacts/bench_artifacts.py --backends s3 --file-mb 50 --files 500

Each operation runs in a fresh process (``_worker.py``); MLflow runs in its own virtualenv
built by ``skiff.testing.venvs.ensure_venv``. Downloads are checked byte for byte. Ratios are
MLflow's time / Skiff's time (above 1: Skiff is faster).

The emulator's CPU seconds are counted for every operation (its whole process group, from
/proc). They show where an emulator, not the client, sets the pace: ``ceiling`` is the
ratio Skiff would reach if its own side cost nothing, i.e. MLflow's time over the time the
emulator needs for Skiff's requests (its CPU seconds spread over the cores it can use: one
for moto and Azurite, each a single Python or Node thread of work).
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
# cores an emulator's work can spread over (moto: the GIL; Azurite: Node's one thread)
EMULATOR_CORES = {"moto": 1, "azurite": 1, "gcs-emulator": 1, "fake-gcs-server": os.cpu_count()}


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


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) spent so far by the live processes of a process group:
    an emulator and whatever it started (Azurite's node, a wrapper's binary)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # from the state field on
        if int(fields[2]) == pgid:  # pgrp; utime and stime follow at 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


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
                  repeat: int, ops: tuple = OPS) -> list:
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
            for op, upload in (("download_file", "upload_file"), ("download_dir", "upload_dir")):
                if op in ops and upload not in ops:  # the data to download, uploaded untimed
                    for tool, python in pythons.items():
                        run_op(python, tool, uris[tool], upload,
                               big if "file" in op else many, env)
            times: dict = {}
            for op in ops:
                local = big if "file" in op else many
                for turn in range(repeat):
                    order = list(pythons.items())
                    for tool, python in order[turn % len(order):] + order[:turn % len(order)]:
                        emulator_before = group_cpu_seconds(server.process.pid)
                        result = run_op(python, tool, uris[tool], op, local, env)
                        emulator_cpu = group_cpu_seconds(server.process.pid) - emulator_before
                        check_same(result, op, big, many)
                        key = (tool, op)
                        if result["seconds"] < times.get(key, (float("inf"),))[0]:
                            times[key] = (result["seconds"], emulator_cpu)
                        print(f"  {name:5s} {tool:6s} {op:13s} {result['seconds']:8.2f}s  "
                              f"client CPU {result['cpu']:7.2f}s  {server.name} CPU "
                              f"{emulator_cpu:7.2f}s", flush=True)
            cores = EMULATOR_CORES.get(server.name, 1)
            for op in ops:
                skiff_s, skiff_emulator = times[("skiff", op)]
                mlflow_s, mlflow_emulator = times.get(("mlflow", op), (None, None))
                rows.append((name, op, skiff_s, mlflow_s,
                             sizes["file" if "file" in op else "dir"],
                             skiff_emulator, mlflow_emulator, cores))
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
    parser.add_argument("--ops", default=",".join(OPS), help="a comma-separated subset of "
                        + ", ".join(OPS))
    args = parser.parse_args()
    ops = tuple(op.strip() for op in args.ops.split(","))
    if set(ops) - set(OPS):
        parser.error(f"unknown operation(s): {', '.join(sorted(set(ops) - set(OPS)))}")
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
            rows += bench_backend(name.strip(), pythons, big, many, sizes, args.repeat, ops)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'backend':8s}{'operation':15s}{'skiff MB/s':>12s}{'mlflow MB/s':>13s}"
          f"{'ratio':>8s}{'emulator CPU s skiff/mlflow':>30s}{'ceiling':>9s}")
    for name, op, skiff_s, mlflow_s, size, skiff_emu, mlflow_emu, cores in rows:
        skiff_rate = size / skiff_s / 1e6
        mlflow_rate = f"{size / mlflow_s / 1e6:13.1f}" if mlflow_s else f"{'-':>13s}"
        ratio = f"{mlflow_s / skiff_s:7.2f}x" if mlflow_s else f"{'-':>8s}"
        emulator = f"{skiff_emu:.1f} / " + (f"{mlflow_emu:.1f}" if mlflow_s else "-")
        # the emulator alone needs skiff_emu / cores seconds for Skiff's requests
        floor = skiff_emu / cores
        ceiling = f"{mlflow_s / floor:8.2f}x" if mlflow_s and floor > 0 else f"{'-':>9s}"
        print(f"{name:8s}{op:15s}{skiff_rate:12.1f}{mlflow_rate}{ratio}{emulator:>30s}"
              f"{ceiling}")


if __name__ == "__main__":
    main()
