"""Overhead of `skiff run` vs `mlflow run` (3.17.2): from starting the command to the first
line the entry point prints, on a local project with ``--env-manager local``.

Both tools log to their own file store, run the same ``python`` (this interpreter's) and
the same one-line entry point; the median of several runs is compared after a warm-up.
Target (issue 9): Skiff's overhead at most 1/3 of MLflow's, i.e. a ratio of 3x or more.

    python bench/projects/bench_run_overhead.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import ROOT, mlflow_python, report  # noqa: E402

MLPROJECT = 'name: overhead\nentry_points:\n  main:\n    command: "python first.py"\n'
FIRST_LINE = 'import time; print("FIRST", time.time(), flush=True)\n'


def overhead(argv: list[str], cwd: str, env: dict) -> float:
    """Seconds from starting ``argv`` to the entry point's first line."""
    start = time.time()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    first = None
    for line in process.stdout:
        if line.startswith("FIRST ") and first is None:
            first = float(line.split()[1])
    if process.wait() != 0 or first is None:
        raise SystemExit(f"{argv[0]} run failed (exit {process.returncode})")
    return first - start


def measure_pair(ours, theirs, cwd, repeat) -> tuple[float, float]:
    """Medians, with the two tools' runs interleaved so a change in machine load hits
    both alike."""
    samples: tuple[list, list] = ([], [])
    for argv, env in (ours, theirs):
        overhead(argv, cwd, env)  # warm-up: bytecode caches, store directories
    for _ in range(repeat):
        for bucket, (argv, env) in zip(samples, (ours, theirs)):
            bucket.append(overhead(argv, cwd, env))
    return statistics.median(samples[0]), statistics.median(samples[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    mlflow_bin = Path(mlflow_python()).parent / "mlflow"
    skiff_bin = Path(sys.executable).parent / "skiff"
    if not skiff_bin.exists():
        raise SystemExit(f"skiff is not installed next to {sys.executable}")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp, "project")
        project.mkdir()
        (project / "MLproject").write_text(MLPROJECT)
        (project / "first.py").write_text(FIRST_LINE)
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SKIFF_", "MLFLOW_")) and k != "PYTHONDONTWRITEBYTECODE"}
        # The same `python` for both entry points: this interpreter's.
        base["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), base.get("PATH", "")])
        skiff_env = {**base, "SKIFF_TRACKING_URI": str(Path(tmp, "skiff-mlruns"))}
        mlflow_env = {**base, "MLFLOW_TRACKING_URI": Path(tmp, "mlflow-mlruns").as_uri(),
                      "MLFLOW_ALLOW_FILE_STORE": "true"}
        command = ["run", str(project), "--env-manager", "local"]
        ours, theirs = measure_pair(([str(skiff_bin), *command], skiff_env),
                                    ([str(mlflow_bin), *command], mlflow_env), tmp, args.repeat)
    report(f"skiff run vs mlflow run (median of {args.repeat}, {ROOT.name})",
           [("start -> entry point's first line", ours, theirs, "s")])
    ratio = theirs / ours
    print(f"\nratio mlflow/skiff = {ratio:.1f}x (target >= 3x): "
          f"{'met' if ratio >= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
