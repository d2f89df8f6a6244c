"""A model's conda environment: conda.yaml's conda packages and Python, then the pip
requirements and Skiff's distributions installed with the environment's pip."""

from __future__ import annotations

import os
import sys

from skiff.errors import SkiffException


def prepare_conda_env(path: str, name: str, spec: dict, model_dir: str) -> list[str]:
    import yaml

    from skiff.env import get_env
    from skiff.projects._conda import find_conda
    from skiff.projects.envs import _env_lock, _run_tool

    conda = find_conda()
    if conda is None:
        raise SkiffException.invalid_parameter_value(
            "conda was not found: install conda or use --env-manager local|virtualenv|uv")
    create_cmd = get_env("CONDA_CREATE_ENV_CMD") or conda
    marker = path + ".conda-complete"
    with _env_lock(path):
        if not os.path.exists(marker):
            print(f"Building the model's conda environment {name} ...", file=sys.stderr)
            env_file = _conda_spec_without_pip(model_dir, spec["python"])
            folder = path + "-build"
            os.makedirs(folder, exist_ok=True)
            env_yaml = os.path.join(folder, "conda.yaml")
            with open(env_yaml, "w", encoding="utf-8") as fh:
                yaml.safe_dump(env_file, fh, sort_keys=False)
            _run_tool([create_cmd, "env", "create", "-q", "-n", name, "-f", env_yaml],
                      "create the conda environment")
            from skiff.models.envs import write_requirement_files

            args = write_requirement_files(folder, spec)
            run = [conda, "run", "--no-capture-output", "-n", name, "python", "-m", "pip"]
            _run_tool([*run, "install", "-q", *args, *spec["skiff"]],
                      "install the model's requirements in the conda environment")
            if spec["overrides"]:
                _run_tool([*run, "install", "-q", *spec["overrides"]],
                          "install the requirement overrides")
            with open(marker, "w", encoding="utf-8") as fh:
                fh.write(name)
    return [conda, "run", "--no-capture-output", "-n", name, "python"]


def _conda_spec_without_pip(model_dir: str, python: str) -> dict:
    """conda.yaml with its pip section removed (pip requirements are installed after,
    together with Skiff); a model without conda.yaml gets Python and pip."""
    import yaml

    path = os.path.join(model_dir, "conda.yaml")
    data = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    deps = [d for d in data.get("dependencies") or [] if not isinstance(d, dict)]
    if not any(str(d).startswith("python") for d in deps):
        deps.insert(0, f"python={python}")
    if not any(str(d).split("=")[0].split("<")[0] == "pip" for d in deps):
        deps.append("pip")
    return {"name": data.get("name") or "skiff-model-env",
            "channels": data.get("channels") or ["conda-forge"], "dependencies": deps}
