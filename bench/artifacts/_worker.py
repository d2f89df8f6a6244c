"""One timed artifact operation, run in a fresh process by bench_artifacts.py.

    python _worker.py <skiff|mlflow> <artifact-uri> <op> <local path>

op: upload_file | upload_dir | download_file | download_dir. Prints a JSON line with the
seconds the operation took and the CPU seconds this process spent on it, all threads
(imports and client construction are excluded: both tools pay them once per process). The
MLflow side runs in its own virtualenv, so this file imports neither tool at module level.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def _repository(tool: str, uri: str):
    if tool == "skiff":
        from skiff.artifacts.resolve import get_artifact_repository
    else:
        from mlflow.store.artifact.artifact_repository_registry import (
            get_artifact_repository,
        )
    return get_artifact_repository(uri)


def main() -> None:
    tool, uri, op, local = sys.argv[1:5]
    repo = _repository(tool, uri)
    # Warm the client (credentials, connection) on a listing both tools do anyway.
    repo.list_artifacts()
    out_dir = tempfile.mkdtemp(prefix=f"bench-{tool}-")
    start, cpu_start = time.perf_counter(), time.process_time()
    if op == "upload_file":
        repo.log_artifact(local)
    elif op == "upload_dir":
        repo.log_artifacts(local, "many")
    elif op == "download_file":
        repo.download_artifacts(os.path.basename(local), out_dir)
    elif op == "download_dir":
        repo.download_artifacts("many", out_dir)
    else:
        raise SystemExit(f"unknown op {op}")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"tool": tool, "op": op, "seconds": elapsed, "cpu": cpu, "out": out_dir}))


if __name__ == "__main__":
    main()
