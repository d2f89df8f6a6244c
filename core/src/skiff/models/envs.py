"""The environment a model is served or scored in (``--env-manager``).

``local`` is the running interpreter. ``virtualenv`` and ``uv`` build a virtual environment
from the model's ``python_env.yaml`` (or ``conda.yaml``) and ``requirements.txt``, plus the
Skiff distributions that load and serve it; ``conda`` does the same with conda where it is
installed. Environments are cached under the env root (``SKIFF_ENV_ROOT`` /
``MLFLOW_ENV_ROOT``, default ``~/.skiff/envs``) by a hash of everything that defines them,
so a second ``serve`` of the same model starts at once.

MLflow pins itself in ``requirements.txt``; Skiff serves such models with its own plugins,
so ``mlflow``/``mlflow-skinny`` lines are left out unless ``install_mlflow`` asks for them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys

from skiff.errors import SkiffException

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")
_MLFLOW_DISTS = ("mlflow", "mlflow-skinny")
_SERVING_DISTS = ("skiff-core", "skiff-server")


def check_env_manager(env_manager: str) -> None:
    """Fail in one line when the tool an env manager needs is missing (before any work)."""
    from skiff.projects._conda import find_conda

    if env_manager not in ENV_MANAGERS:
        raise SkiffException.invalid_parameter_value(
            f"Unknown env manager '{env_manager}'; choose one of {', '.join(ENV_MANAGERS)}")
    if env_manager == "uv" and shutil.which("uv") is None:
        raise SkiffException.invalid_parameter_value(
            "uv was not found on PATH: install it (pip install uv) or use --env-manager "
            "local|virtualenv|conda")
    if env_manager == "conda" and find_conda() is None:
        raise SkiffException.invalid_parameter_value(
            "conda was not found (looked at SKIFF_CONDA_HOME/MLFLOW_CONDA_HOME and PATH): "
            "install conda or use --env-manager local|virtualenv|uv")


def _read_yaml(path: str) -> dict:
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return data if isinstance(data, dict) else {}


def _requirement_lines(path: str) -> list[str]:
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]


def _is_mlflow(req: str) -> bool:
    from skiff.models.environment import requirement_name

    name = (requirement_name(req) or "").lower().replace("_", "-")
    return name in _MLFLOW_DISTS


def model_env_spec(model_dir: str, install_mlflow: bool = False,
                   pip_requirements_override: list[str] | None = None) -> dict:
    """What defines the model's environment: the Python version, build dependencies, the
    pip requirements (files referenced with ``-r`` read in), constraints and overrides."""
    from skiff.models.environment import PYTHON_ENV_FILE, REQUIREMENTS_FILE

    python_env = os.path.join(model_dir, PYTHON_ENV_FILE)
    conda_env = _conda_file(model_dir)
    python, build, deps = "{}.{}.{}".format(*sys.version_info[:3]), [], []
    if os.path.isfile(python_env):
        data = _read_yaml(python_env)
        python = str(data.get("python") or python)
        build = [str(d) for d in data.get("build_dependencies") or []]
        deps = [str(d) for d in data.get("dependencies") or []]
    elif conda_env:
        python, deps = _python_and_pip_from_conda(conda_env, python)
    else:
        deps = [f"-r {REQUIREMENTS_FILE}"]
    requirements, constraints = [], []
    for dep in deps:
        if dep.startswith("-r "):
            for line in _requirement_lines(os.path.join(model_dir, dep[3:].strip())):
                if line.startswith("-c "):
                    constraints += _requirement_lines(os.path.join(model_dir, line[3:].strip()))
                else:
                    requirements.append(line)
        elif dep.startswith("-c "):
            constraints += _requirement_lines(os.path.join(model_dir, dep[3:].strip()))
        else:
            requirements.append(dep)
    requirements = [r for r in requirements if install_mlflow or not _is_mlflow(r)]
    if install_mlflow and not any(_is_mlflow(r) for r in requirements):
        requirements.append("mlflow")
    return {"python": python, "build_dependencies": build, "requirements": requirements,
            "constraints": constraints, "overrides": list(pip_requirements_override or []),
            "skiff": skiff_install_specs(model_dir)}


def _conda_file(model_dir: str) -> str | None:
    from skiff.models.environment import CONDA_ENV_FILE

    path = os.path.join(model_dir, CONDA_ENV_FILE)
    return path if os.path.isfile(path) else None


def _python_and_pip_from_conda(path: str, default_python: str) -> tuple[str, list[str]]:
    python, pip = default_python, []
    for dep in _read_yaml(path).get("dependencies") or []:
        if isinstance(dep, dict):
            pip += [str(d) for d in dep.get("pip") or []]
        elif str(dep).startswith("python="):
            python = str(dep).split("=")[-1]
    return python, pip


def _install_spec(dist_name: str) -> list[str] | None:
    """How to install the Skiff distribution running now into another environment: its
    source directory (editable when it is installed so), else ``name==version``."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(dist_name)
    except PackageNotFoundError:
        return None
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        url = info.get("url", "")
        if url.startswith("file://"):
            from skiff.utils.uri import local_path_from_uri

            path = local_path_from_uri(url)
            return ["-e", path] if (info.get("dir_info") or {}).get("editable") else [path]
    return [f"{dist.metadata['Name']}=={dist.version}"]


def _flavor_distribution(model_dir: str) -> str | None:
    """The distribution providing the model's ``loader_module`` (skiff-flavor-sklearn for
    ``mlflow.sklearn``), or None when core loads it."""
    from importlib.metadata import packages_distributions

    from skiff.models.model import Model

    conf = Model.load(model_dir).flavors.get("python_function") or {}
    loader = conf.get("loader_module") or ""
    head, _, flavor = loader.partition(".")
    if head not in ("mlflow", "skiff") or not flavor or "." in flavor:
        return None
    from skiff.plugins import get_registries

    flavors = get_registries().flavors
    if flavor not in flavors:
        return None
    target = flavors.get(flavor)
    module = target if isinstance(target, str) else getattr(target, "__name__", "")
    top = module.split(".")[0]
    # The plugin's own entry point names its distribution (editable installs are not in
    # packages_distributions()).
    from importlib.metadata import entry_points

    for entry in entry_points(group="skiff"):
        if entry.value.split(":")[0].split(".")[0] == top and entry.dist is not None:
            name = entry.dist.metadata["Name"]
            return name if name not in _SERVING_DISTS else None
    dists = packages_distributions().get(top, [])
    return dists[0] if dists and dists[0] not in _SERVING_DISTS else None


def skiff_install_specs(model_dir: str) -> list[str]:
    """pip arguments installing skiff-core, skiff-server and the model's flavor plugin."""
    specs: list[str] = []
    flavor_dist = _flavor_distribution(model_dir)
    for name in (*_SERVING_DISTS, *([flavor_dist] if flavor_dist else [])):
        spec = _install_spec(name)
        if spec:
            specs += spec
    return specs


def env_hash(spec: dict, env_manager: str) -> str:
    text = json.dumps({"manager": env_manager, **spec}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def prepare_model_env(model_dir: str, env_manager: str, install_mlflow: bool = False,
                      pip_requirements_override: list[str] | None = None) -> list[str] | None:
    """Build (or reuse) the model's environment; the command prefix that runs its Python
    (``[<env>/bin/python]``, or ``conda run ... python``), None for ``local``."""
    check_env_manager(env_manager)
    if env_manager == "local":
        return None
    from skiff.projects.envs import _env_lock, env_root

    spec = model_env_spec(model_dir, install_mlflow, pip_requirements_override)
    if env_manager != "virtualenv":  # only pip-based builds install them
        spec["build_dependencies"] = []
    name = f"skiff-model-{env_hash(spec, env_manager)}"
    path = os.path.join(env_root(), name)
    if env_manager == "conda":
        from skiff.models._conda_env import prepare_conda_env

        return prepare_conda_env(path, name, spec, model_dir)
    python = os.path.join(path, "bin", "python")
    with _env_lock(path):
        if not os.path.exists(os.path.join(path, ".complete")):
            if os.path.exists(path):
                shutil.rmtree(path)
            print(f"Building the model's {env_manager} environment in {path} ...",
                  file=sys.stderr)
            try:
                _build_venv(path, spec, env_manager)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            with open(os.path.join(path, ".complete"), "w", encoding="utf-8") as fh:
                json.dump(spec, fh, indent=1)
    return [python]


def write_requirement_files(folder: str, spec: dict) -> list[str]:
    """requirements.txt (and constraints.txt) for the spec in ``folder``; pip arguments."""
    os.makedirs(folder, exist_ok=True)
    args = []
    if spec["requirements"]:
        req_file = os.path.join(folder, "requirements.txt")
        with open(req_file, "w", encoding="utf-8") as fh:
            fh.write("\n".join(spec["requirements"]) + "\n")
        args += ["-r", req_file]
    if spec["constraints"]:
        constraints = os.path.join(folder, "constraints.txt")
        with open(constraints, "w", encoding="utf-8") as fh:
            fh.write("\n".join(spec["constraints"]) + "\n")
        args += ["-c", constraints]
    return args


def _build_venv(path: str, spec: dict, env_manager: str) -> None:
    from skiff.projects.envs import UvEnvManager, _run_tool

    manager = UvEnvManager()
    interpreter = manager._interpreter(spec["python"])
    python = os.path.join(path, "bin", "python")
    if env_manager == "uv":
        uv = manager._uv()
        _run_tool([uv, "venv", "-q", "-p", interpreter, path], "create a uv environment")
        install = [uv, "pip", "install", "-q", "-p", python]
    else:
        _run_tool([interpreter, "-m", "venv", path], "create a virtualenv")
        if spec["build_dependencies"]:
            _run_tool([python, "-m", "pip", "install", "-q", *spec["build_dependencies"]],
                      "install the build dependencies")
        install = [python, "-m", "pip", "install", "-q"]
    # One resolution for the model's pins and Skiff's plugins, so neither moves the other.
    args = write_requirement_files(os.path.join(path, "model-requirements"), spec)
    _run_tool([*install, *args, *spec["skiff"]], "install the model's requirements")
    if spec["overrides"]:
        _run_tool([*install, *spec["overrides"]], "install the requirement overrides")


def exec_in_env(prefix: list[str], args: list[str]) -> None:
    """Replace this process by ``<env python> -m skiff.cli <args>`` (signals, exit code and
    output then belong to the command in the environment)."""
    argv = [*prefix, "-m", "skiff.cli", *args]
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.call(argv))
    os.execv(argv[0] if os.path.isabs(argv[0]) else shutil.which(argv[0]) or argv[0], argv)
