"""Shared helpers: peer virtualenvs, timing of subprocesses, a ratio table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core" / "src"))

from skiff.testing.venvs import MLFLOW_3, ensure_venv  # noqa: E402


def mlflow_python(extra: list[str] | None = None) -> Path:
    return ensure_venv("bench-mlflow3", [MLFLOW_3, *(extra or [])])


def time_command(argv: list[str], repeat: int = 7, env: dict | None = None) -> float:
    """Median wall time of running ``argv`` to completion, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env={**os.environ, **(env or {})})
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_json(argv: list[str], env: dict | None = None) -> dict:
    import json

    out = subprocess.run(argv, check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    """rows: (what, skiff, peer, unit); prints the ratio peer/skiff for times and
    skiff/peer for rates (unit ending in '/s')."""
    print(f"\n== {title}")
    print(f"{'measure':44} {'skiff':>12} {'mlflow':>12} {'ratio':>8}")
    for what, ours, theirs, unit in rows:
        better = ours / theirs if unit.endswith("/s") else theirs / ours
        print(f"{what:44} {ours:>10.4g} {unit[:2]:2} {theirs:>9.4g} {unit[:2]:2} {better:>7.1f}x")
