"""`skiff deployments create -t sagemaker` vs `mlflow deployments create -t sagemaker`
(MLflow 3.17.2), same model, same local moto server: wall time from command start to the
endpoint being InService (both CLIs wait by default). Issue target: skiff <= 1/2 of MLflow.

    .venv/bin/python bench/deployments/bench_sagemaker_create.py [--repeat 5]
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

ROLE = "arn:aws:iam::123456789012:role/sagemaker-bench"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pyfunc:bench"
MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.pyfunc.model
    python_model: python_model.pkl
    python_version: 3.11.7
mlflow_version: 3.17.2
model_uuid: 3f1c2a6b8f3e4c54b1f0a1f0c9d2e7aa
utc_time_created: '2026-01-01 00:00:00.000000'
"""


def _model_dir() -> str:
    path = Path(tempfile.mkdtemp(prefix="bench-sm-model-")) / "model"
    path.mkdir()
    (path / "MLmodel").write_text(MLMODEL)
    (path / "python_model.pkl").write_bytes(os.urandom(256 * 1024))  # a small model file
    (path / "requirements.txt").write_text("mlflow==3.17.2\n")
    (path / "conda.yaml").write_text("dependencies:\n- python=3.11.7\n- pip:\n  - mlflow\n")
    (path / "python_env.yaml").write_text("python: 3.11.7\ndependencies:\n- -r requirements.txt\n")
    return str(path)


def _create(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from skiff.testing.servers import start_moto

    mlflow_py = mlflow_python(["boto3", "numpy", "pandas"])
    skiff_bin = str(ROOT / ".venv" / "bin" / "skiff")
    model = _model_dir()
    with start_moto() as moto:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "PYTHONDONTWRITEBYTECODE"))}
        env.update(AWS_ENDPOINT_URL=moto.url, AWS_ACCESS_KEY_ID="bench",
                   AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
        import boto3

        boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench"
                     ).create_bucket(Bucket="bench")
        config = ["-C", f"execution_role_arn={ROLE}", "-C", "bucket=bench",
                  "-C", f"image_url={IMAGE}", "-C", "region_name=us-east-1"]
        commands = {
            "skiff": lambda n: [skiff_bin, "deployments", "create", "-t", "sagemaker:/us-east-1",
                                "--name", n, "-m", model, *config],
            "mlflow": lambda n: [str(mlflow_py), "-m", "mlflow", "deployments", "create",
                                 "-t", "sagemaker:/us-east-1", "--name", n, "-m", model,
                                 *config],
        }
        times: dict[str, list[float]] = {"skiff": [], "mlflow": []}
        for tool, command in commands.items():
            _create(command(f"warm-{tool}"), env)  # writes bytecode, warms moto's backends
        for i in range(args.repeat):
            for tool, command in commands.items():  # interleaved, so drift hits both
                times[tool].append(_create(command(f"{tool}-{i}"), env))
    ours, theirs = statistics.median(times["skiff"]), statistics.median(times["mlflow"])
    report("SageMaker create to InService, local moto server (median of "
           f"{args.repeat})", [("deployments create -t sagemaker", ours, theirs, "s")])
    print(f"skiff samples:  {[round(t, 2) for t in times['skiff']]}")
    print(f"mlflow samples: {[round(t, 2) for t in times['mlflow']]}")
    print(f"target skiff <= 1/2 mlflow: {'met' if ours <= theirs / 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
