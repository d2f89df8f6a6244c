"""The MLproject file: project, entry points and their parameters.

The format is MLflow's (``MLproject`` or ``mlproject`` at the project root, YAML). A project
without the file still runs: every ``.py`` and ``.sh`` file is an entry point, and the
environment comes from ``python_env.yaml`` or ``conda.yaml`` when present.
"""

from __future__ import annotations

import os
import shlex

import attrs

from skiff.errors import SkiffException

PARAM_TYPES = ("string", "float", "int", "path", "uri")
ENV_KEYS = ("python_env", "conda_env", "docker_env")


def _invalid(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


@attrs.define
class Parameter:
    name: str
    type: str = "string"
    default: object = None

    @property
    def required(self) -> bool:
        return self.default is None

    @classmethod
    def parse(cls, name: str, spec) -> Parameter:
        if spec is None or isinstance(spec, str):
            ptype, default = spec or "string", None
        elif isinstance(spec, dict):
            ptype, default = spec.get("type", "string"), spec.get("default")
        else:
            raise _invalid(f"Parameter {name!r} must be a type name or a mapping with "
                           f"'type' and 'default', got {spec!r}")
        if ptype not in PARAM_TYPES:
            raise _invalid(f"Parameter {name!r} has unknown type {ptype!r}; expected one of "
                           f"{', '.join(PARAM_TYPES)}")
        return cls(str(name), ptype, default)


@attrs.define
class EntryPoint:
    name: str
    command: str
    parameters: dict[str, Parameter] = attrs.field(factory=dict)

    def format_command(self, values: dict[str, str], extra: dict[str, str]) -> str:
        """The command with every ``{name}`` replaced by its shell-quoted value and every
        undeclared parameter appended as ``--key value``."""
        quoted = {k: shlex.quote(str(v)) for k, v in values.items()}
        try:
            command = self.command.format(**quoted)
        except KeyError as exc:
            raise _invalid(f"Entry point {self.name!r} uses {{{exc.args[0]}}} in its command "
                           "but declares no such parameter") from None
        except (IndexError, ValueError) as exc:
            raise _invalid(f"Entry point {self.name!r} has a malformed command template "
                           f"{self.command!r}: {exc}") from None
        for key, value in extra.items():
            command += f" --{shlex.quote(str(key))} {shlex.quote(str(value))}"
        return command


@attrs.define
class DockerEnv:
    image: str
    volumes: list[str] = attrs.field(factory=list)
    # Each item: "NAME" (copied from the caller's environment) or ["NAME", "value"].
    environment: list = attrs.field(factory=list)


@attrs.define
class Project:
    directory: str
    name: str | None = None
    entry_points: dict[str, EntryPoint] = attrs.field(factory=dict)
    python_env: str | None = None  # absolute path of python_env.yaml
    conda_env: str | None = None  # absolute path of the conda YAML
    docker_env: DockerEnv | None = None

    @property
    def env_type(self) -> str:
        """'docker', 'conda' or 'python' (python_env or nothing)."""
        if self.docker_env is not None:
            return "docker"
        if self.conda_env is not None:
            return "conda"
        return "python"

    def get_entry_point(self, name: str) -> EntryPoint:
        """A declared entry point, else a ``.py``/``.sh`` file of the project run as a
        script."""
        if name in self.entry_points:
            return self.entry_points[name]
        path = os.path.join(self.directory, name)
        ext = os.path.splitext(name)[1]
        if ext in (".py", ".sh") and os.path.isfile(path) and _inside(self.directory, path):
            runner = "python" if ext == ".py" else os.environ.get("SHELL") or "bash"
            return EntryPoint(name, f"{shlex.quote(runner)} {shlex.quote(name)}")
        declared = ", ".join(repr(n) for n in self.entry_points) or "none"
        raise _invalid(f"Could not find entry point {name!r} in project {self.directory}: it is "
                       f"not declared in MLproject (declared: {declared}) and is not a .py or "
                       ".sh file in the project")


def _inside(root: str, path: str) -> bool:
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def find_mlproject(directory: str) -> str | None:
    for entry in os.listdir(directory):
        if entry.lower() == "mlproject" and os.path.isfile(os.path.join(directory, entry)):
            return os.path.join(directory, entry)
    return None


def load_project(directory: str) -> Project:
    """Read the project at ``directory`` (an MLproject file, or the conventions without
    one)."""
    import yaml

    directory = os.path.abspath(directory)
    if not os.path.isdir(directory):
        raise _invalid(f"Project directory {directory} does not exist")
    path = find_mlproject(directory)
    if path is None:
        return _with_default_env(Project(directory))
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        raise _invalid(f"Could not parse {path}: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise _invalid(f"{path} must hold a YAML mapping")
    present = [k for k in ENV_KEYS if data.get(k)]
    if len(present) > 1:
        raise _invalid(f"Project cannot declare more than one environment; {path} has "
                       f"{', '.join(present)}")
    project = Project(directory, name=data.get("name"))
    if data.get("python_env"):
        project.python_env = _env_file(directory, data["python_env"], "python_env")
    if data.get("conda_env"):
        project.conda_env = _env_file(directory, data["conda_env"], "conda_env")
    if data.get("docker_env"):
        project.docker_env = _docker_env(data["docker_env"])
    for ep_name, ep in (data.get("entry_points") or {}).items():
        if not isinstance(ep, dict) or not ep.get("command"):
            raise _invalid(f"Entry point {ep_name!r} in {path} needs a 'command'")
        params = {str(k): Parameter.parse(k, v) for k, v in (ep.get("parameters") or {}).items()}
        project.entry_points[str(ep_name)] = EntryPoint(str(ep_name), str(ep["command"]), params)
    if not present:
        _with_default_env(project)
    return project


def _with_default_env(project: Project) -> Project:
    """MLflow's convention: python_env.yaml, else conda.yaml, else no environment file."""
    for filename, attr in (("python_env.yaml", "python_env"), ("conda.yaml", "conda_env")):
        candidate = os.path.join(project.directory, filename)
        if os.path.isfile(candidate):
            setattr(project, attr, candidate)
            break
    return project


def _env_file(directory: str, relative, key: str) -> str:
    path = os.path.join(directory, str(relative))
    if not os.path.isfile(path):
        raise _invalid(f"The project's {key} file {relative!r} does not exist in {directory}")
    if not _inside(directory, path):
        raise _invalid(f"The project's {key} file {relative!r} is outside the project")
    return os.path.abspath(path)


def _docker_env(spec) -> DockerEnv:
    if not isinstance(spec, dict) or not spec.get("image"):
        raise _invalid("docker_env needs an 'image'")
    return DockerEnv(str(spec["image"]), [str(v) for v in spec.get("volumes") or []],
                     list(spec.get("environment") or []))
