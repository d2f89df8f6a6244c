"""One MLflow 3.17.2 process for both directions (MLflow's import is the slow part):
save MLflow's models (mlflow_save.py), then load Skiff's (mlflow_load.py).

usage: mlflow_roundtrip.py MLFLOW_OUT MLRUNS -- SKIFF_MODEL_PATH_OR_URI...
"""

import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
split = sys.argv.index("--")
save_args, load_args = sys.argv[1:split], sys.argv[split + 1:]
sys.argv = [str(here / "mlflow_save.py"), *save_args]
runpy.run_path(sys.argv[0], run_name="__main__")
sys.argv = [str(here / "mlflow_load.py"), *load_args]
runpy.run_path(sys.argv[0], run_name="__main__")
