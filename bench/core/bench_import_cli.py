"""`import skiff` and `skiff --help` against `import mlflow` and `mlflow --help`.

Target (issue 2): each at most 1/10 of MLflow's time.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import mlflow_python, report, time_command  # noqa: E402


def main():
    mlflow_py = mlflow_python()
    skiff_py = sys.executable
    skiff_cli = shutil.which("skiff") or str(Path(skiff_py).parent / "skiff")
    mlflow_cli = str(Path(mlflow_py).parent / "mlflow")
    rows = [
        ("bare python -c pass", time_command([skiff_py, "-c", "pass"]),
         time_command([str(mlflow_py), "-c", "pass"]), "s"),
        ("python -c 'import skiff' / 'import mlflow'",
         time_command([skiff_py, "-c", "import skiff"]),
         time_command([str(mlflow_py), "-c", "import mlflow"]), "s"),
        ("skiff --help / mlflow --help", time_command([skiff_cli, "--help"]),
         time_command([mlflow_cli, "--help"], repeat=3), "s"),
    ]
    report("import and CLI start-up (median wall time; ratio = mlflow / skiff)", rows)


if __name__ == "__main__":
    main()
