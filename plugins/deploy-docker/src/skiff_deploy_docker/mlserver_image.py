"""What an ``--enable-mlserver`` image adds: MLServer (the V2 inference protocol that KServe
and Seldon Core speak) with Skiff's own runtime (``mlserver_runtime.py``, installed as the
module ``skiff_mlserver``). Everything is configured through MLServer's environment variables,
as MLflow's images do, so a platform can override the model, its name or the ports.

Skiff's runtime rather than ``mlserver-mlflow``: that one loads models through MLflow itself
and so pulls MLflow with scikit-learn, SciPy, PyArrow and matplotlib into the image (about 50
more packages); Skiff's runtime loads the same MLflow-format model through ``skiff.pyfunc``.
"""

from __future__ import annotations

import os
import shutil

RUNTIME_MODULE = "skiff_mlserver"
RUNTIME_CLASS = f"{RUNTIME_MODULE}.SkiffRuntime"
# uvloop 0.22+ breaks MLServer 1.7's parallel workers ("There is no current event loop").
REQUIREMENTS = ["mlserver>=1.4,<2", "uvloop<0.22"]
REPOSITORY = "/opt/mlserver"  # MLServer's repository root: a settings.json there overrides

ENTRYPOINT = """\
#!/bin/sh
# Starts MLServer with Skiff's runtime (the image KServe and Seldon Core expect). PORT and HOST
# (as for Skiff's scoring server) override MLSERVER_HTTP_PORT and MLSERVER_HOST.
set -e
[ "$1" = "serve" ] && shift
[ -n "$PORT" ] && export MLSERVER_HTTP_PORT="$PORT"
[ -n "$HOST" ] && export MLSERVER_HOST="$HOST"
if [ ! -f /opt/skiff/model-baked ] && [ -f "$MLSERVER_MODEL_URI/requirements.txt" ]; then
    pip install --find-links /opt/skiff/dists -r "$MLSERVER_MODEL_URI/requirements.txt"
fi
""" + f'exec mlserver start {REPOSITORY} "$@"\n'


def environment(model_path: str, model_name: str, port: int) -> list[str]:
    """``KEY=VALUE`` settings for the Dockerfile's ENV."""
    return [
        f"MLSERVER_MODEL_IMPLEMENTATION={RUNTIME_CLASS}",
        f"MLSERVER_MODEL_URI={model_path}",
        f'MLSERVER_MODEL_NAME="{model_name}"',
        f"MLSERVER_HTTP_PORT={port}",
        # One model per container (the container is what a platform scales), so inference
        # runs in MLServer's own process: half the memory and start-up time of a worker pool.
        "MLSERVER_PARALLEL_WORKERS=0",
    ]


def install_steps() -> list[str]:
    """Shell steps after pip: the runtime goes into the venv's site-packages, so MLServer's
    worker processes import it too, and the repository root is made."""
    where = "$(python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))')"
    return [f"cp /opt/skiff/mlserver/{RUNTIME_MODULE}.py \"{where}/\"", f"mkdir -p {REPOSITORY}"]


def write_runtime(context: str) -> None:
    folder = os.path.join(context, "mlserver")
    os.makedirs(folder, exist_ok=True)
    source = os.path.join(os.path.dirname(__file__), "mlserver_runtime.py")
    shutil.copyfile(source, os.path.join(folder, f"{RUNTIME_MODULE}.py"))
