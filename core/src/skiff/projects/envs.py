"""Environment managers: where and with which Python a project's command runs.

Each manager has ``check(project)`` (fast: is the tool there? raises one clear line before
any run is created), and ``prepare(project, options)`` returning an :class:`Activation`
that turns a shell command into the process to start. They are registered through the
``register_env_managers`` hook (the built-ins by ``skiff._builtin.local_project_backend``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys

import attrs

from skiff.errors import SkiffException
from skiff.projects.spec import Project

_PY_MINOR = "{}.{}".format(*sys.version_info[:2])
OTHER_MANAGERS = "--env-manager local|virtualenv|uv|conda"


@attrs.define
class EnvOptions:
    docker_args: dict = attrs.field(factory=dict)
    build_image: bool = False
    docker_auth: dict | None = None
    git_commit: str | None = None


@attrs.define
class Activation:
    """How to start a command: a prefix before ``bash -c CMD`` and environment changes."""

    prefix: list[str] = attrs.field(factory=list)
    path_dirs: list[str] = attrs.field(factory=list)  # put first on PATH
    set_env: dict[str, str] = attrs.field(factory=dict)
    run_tags: dict[str, str] = attrs.field(factory=dict)  # recorded on the run
    # Builds argv from (command, env); docker needs the env to forward it into the container.
    builder: object = None

    def process(self, command: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        env = {**env, **self.set_env}
        if self.path_dirs:
            env["PATH"] = os.pathsep.join([*self.path_dirs, env.get("PATH", "")])
        if self.builder is not None:
            return self.builder(command, env), env
        return [*self.prefix, "bash", "-c", command], env


class EnvManager:
    name = "local"

    def check(self, project: Project) -> None:
        """Raise a SkiffException naming what is missing; called before the run exists."""

    def prepare(self, project: Project, options: EnvOptions) -> Activation:
        raise NotImplementedError


class LocalEnvManager(EnvManager):
    """The current Python environment: ``python`` is the interpreter running Skiff."""

    name = "local"

    def prepare(self, project, options):
        return Activation(path_dirs=[os.path.dirname(sys.executable)])


def env_root() -> str:
    from skiff.env import get_env

    return os.path.expanduser(get_env("ENV_ROOT") or os.path.join("~", ".skiff", "envs"))


def read_python_env(project: Project) -> dict:
    """python_env.yaml as a dict; without one, the current Python and no dependencies."""
    import yaml

    if project.python_env is None and project.conda_env is not None:
        return _python_env_from_conda(project.conda_env)
    if project.python_env is None:
        return {"python": _PY_MINOR, "build_dependencies": [],
                "dependencies": []}

    with open(project.python_env, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise SkiffException.invalid_parameter_value(
            f"{project.python_env} must hold a mapping with python and dependencies")
    return {"python": str(data.get("python") or _PY_MINOR),
            "build_dependencies": [str(d) for d in data.get("build_dependencies") or []],
            "dependencies": [str(d) for d in data.get("dependencies") or []]}


def _python_env_from_conda(path: str) -> dict:
    """A conda.yaml's python version and pip dependencies (conda packages other than python
    and pip cannot be installed into a virtualenv and are left out)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    python, deps = _PY_MINOR, []
    for dep in data.get("dependencies") or []:
        if isinstance(dep, dict):
            deps.extend(str(d) for d in dep.get("pip") or [])
        elif str(dep).startswith("python=") or str(dep).startswith("python=="):
            python = str(dep).split("=")[-1]
    return {"python": python, "build_dependencies": [], "dependencies": deps}


def environment_hash(project: Project, spec: dict, manager: str) -> str:
    """Identifies an environment by what defines it: the spec and any requirement files it
    names with ``-r``."""
    digest = hashlib.sha256(manager.encode())
    digest.update(repr(sorted(spec.items())).encode())
    for dep in spec["build_dependencies"] + spec["dependencies"]:
        if dep.startswith(("-r ", "-c ")):
            path = os.path.join(project.directory, dep[3:].strip())
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()[:20]


@contextlib.contextmanager
def _env_lock(path: str):
    """Serialises builds of one environment across processes (parallel child runs)."""
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_tool(args: list[str], what: str, cwd: str | None = None) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [ln for ln in (result.stderr or result.stdout).splitlines() if ln.strip()]
        detail = lines[-1].strip() if lines else f"exit code {result.returncode}"
        raise SkiffException(f"Could not {what}: {detail}", "INTERNAL_ERROR")


class VirtualenvEnvManager(EnvManager):
    """A virtual environment per python_env.yaml content, cached under the env root."""

    name = "virtualenv"

    def _uv(self) -> str | None:
        return shutil.which("uv")

    def check(self, project):
        self._interpreter(read_python_env(project)["python"])

    def prepare(self, project, options):
        spec = read_python_env(project)
        if project.python_env is None and project.conda_env is None:
            print(f"Note: the project has no python_env.yaml, so it runs in a {self.name} "
                  f"environment with Python {spec['python']} and no packages; use "
                  "--env-manager local to run in the current environment.", file=sys.stderr)
        path = os.path.join(env_root(), f"skiff-{environment_hash(project, spec, self.name)}")
        with _env_lock(path):
            if not os.path.exists(os.path.join(path, ".complete")):
                if os.path.exists(path):
                    shutil.rmtree(path)
                try:
                    self._create(path, spec, project.directory)
                except BaseException:
                    shutil.rmtree(path, ignore_errors=True)
                    raise
                with open(os.path.join(path, ".complete"), "w") as f:
                    f.write(repr(spec))
        return Activation(path_dirs=[os.path.join(path, "bin")],
                          set_env={"VIRTUAL_ENV": path})

    def _interpreter(self, version: str) -> str:
        current = "{}.{}.{}".format(*sys.version_info[:3])
        if current == version or current.startswith(version + "."):
            return sys.executable
        major_minor = ".".join(version.split(".")[:2])
        found = shutil.which(f"python{major_minor}")
        if found and (version == major_minor or _version_of(found) == version):
            return found
        uv = self._uv()
        if uv:
            result = subprocess.run([uv, "python", "find", "--no-python-downloads", version],
                                    capture_output=True, text=True)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip()
        raise SkiffException.invalid_parameter_value(
            f"Python {version} (asked for by python_env.yaml) is not installed here; install "
            f"it or run with --env-manager local")

    def _create(self, path: str, spec: dict, cwd: str) -> None:
        python = self._interpreter(spec["python"])
        with_pip = [] if spec["build_dependencies"] or spec["dependencies"] else ["--without-pip"]
        _run_tool([python, "-m", "venv", *with_pip, path], f"create a virtualenv with {python}")
        env_python = os.path.join(path, "bin", "python")
        for deps in (spec["build_dependencies"], spec["dependencies"]):
            if deps:
                _run_tool([env_python, "-m", "pip", "install", "-q", *_pip_args(deps)],
                          f"install {' '.join(deps)}", cwd=cwd)


class UvEnvManager(VirtualenvEnvManager):
    name = "uv"

    def check(self, project):
        if self._uv() is None:
            raise SkiffException.invalid_parameter_value(
                f"uv was not found on PATH: install it (pip install uv) or use {OTHER_MANAGERS}")
        self._interpreter(read_python_env(project)["python"])

    def _create(self, path, spec, cwd):
        uv = self._uv()
        python = self._interpreter(spec["python"])
        _run_tool([uv, "venv", "-q", "-p", python, path], f"create a uv environment ({python})")
        env_python = os.path.join(path, "bin", "python")
        deps = [d for d in spec["build_dependencies"] + spec["dependencies"]]
        if deps:
            _run_tool([uv, "pip", "install", "-q", "-p", env_python, *_pip_args(deps)],
                      f"install {' '.join(deps)}", cwd=cwd)


def _pip_args(deps: list[str]) -> list[str]:
    """'-r requirements.txt' is one list item in python_env.yaml but two arguments."""
    args: list[str] = []
    for dep in deps:
        if dep.startswith(("-r ", "-c ", "-e ")):
            args.extend([dep[:2], dep[3:].strip()])
        else:
            args.append(dep)
    return args


def _version_of(python: str) -> str:
    result = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True)
    return result.stdout.strip()


def default_env_manager(project: Project) -> str:
    """MLflow's choice when --env-manager is not given."""
    return {"docker": "docker", "conda": "conda"}.get(project.env_type, "virtualenv")
