"""The conda environment manager: one named environment per conda.yaml content."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys

from skiff.errors import SkiffException
from skiff.projects.envs import Activation, EnvManager, _env_lock, _run_tool, env_root


def find_conda() -> str | None:
    from skiff.env import get_env

    home = get_env("CONDA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "conda")
        return candidate if os.path.exists(candidate) else None
    return shutil.which("conda")


class CondaEnvManager(EnvManager):
    name = "conda"

    def check(self, project):
        if find_conda() is None:
            raise SkiffException.invalid_parameter_value(
                "conda was not found (looked at SKIFF_CONDA_HOME/MLFLOW_CONDA_HOME and PATH): "
                "install conda or use --env-manager local|virtualenv|uv")

    def prepare(self, project, options):
        conda = find_conda()
        from skiff.env import get_env

        create_cmd = get_env("CONDA_CREATE_ENV_CMD") or conda
        if project.conda_env:
            with open(project.conda_env, "rb") as f:
                content = f.read()
        else:
            content = "python={}.{}".format(*sys.version_info[:2]).encode()
        name = "skiff-" + hashlib.sha256(content).hexdigest()[:20]
        marker = os.path.join(env_root(), name + ".conda-complete")
        with _env_lock(os.path.join(env_root(), name)):
            if not os.path.exists(marker):
                if project.conda_env:
                    _run_tool([create_cmd, "env", "create", "-q", "-n", name, "-f",
                               project.conda_env], "create the conda environment")
                else:
                    _run_tool([create_cmd, "create", "-q", "-y", "-n", name,
                               content.decode()], "create the conda environment")
                with open(marker, "w") as f:
                    f.write(name)
        return Activation(prefix=[conda, "run", "--no-capture-output", "-n", name])
