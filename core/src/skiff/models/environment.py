"""The environment files saved beside MLmodel: ``requirements.txt``, ``python_env.yaml``,
``conda.yaml`` (and ``constraints.txt`` when constraints are given).

Requirements are inferred cheaply: the top-level packages a model needs (the package of its
class plus the flavor's own packages) are mapped to distributions with importlib.metadata
and pinned to the installed versions.
"""

from __future__ import annotations

import os
import platform
import re
import sys

import yaml

from skiff.errors import SkiffException

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"
CONSTRAINTS_FILE = "constraints.txt"

# Modules that are part of the environment running Skiff itself, never a requirement.
_SKIP_PACKAGES = {"__main__", "builtins", "skiff", "mlflow", "skiff_flavor_sklearn"}


def _packages_distributions() -> dict:
    from importlib.metadata import packages_distributions

    global _PKG_DISTS
    if _PKG_DISTS is None:
        _PKG_DISTS = packages_distributions()
    return _PKG_DISTS


_PKG_DISTS = None


def _dist_version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def pinned(dist: str) -> str:
    """'scikit-learn' -> 'scikit-learn==1.9.1' (unpinned when not installed). Local version
    labels (+cpu) are dropped so the pin resolves on PyPI."""
    found = _dist_version(dist)
    return f"{dist}=={found.split('+', 1)[0]}" if found else dist


def requirements_for_modules(modules) -> list[str]:
    """Pinned distributions providing the top-level packages of ``modules`` (module names
    or objects); the standard library and Skiff itself are left out."""
    out: list[str] = []
    stdlib = getattr(sys, "stdlib_module_names", set())
    for module in modules:
        name = module if isinstance(module, str) else getattr(module, "__name__", "")
        top = name.split(".", 1)[0]
        if not top or top in stdlib or top in _SKIP_PACKAGES or top.startswith("_"):
            continue
        for dist in _packages_distributions().get(top, []):
            req = pinned(dist)
            if req not in out and dist.lower() not in ("skiff-core", "mlflow", "mlflow-skinny"):
                out.append(req)
    return out


def model_class_modules(obj) -> list[str]:
    """The modules an object's class hierarchy comes from (its top-level packages are what
    a model needs installed)."""
    modules = []
    for cls in type(obj).__mro__:
        mod = getattr(cls, "__module__", None)
        if mod and mod not in modules:
            modules.append(mod)
    return modules


def _read_requirements_arg(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        with open(value) as fh:
            return [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    return [str(v) for v in value]


def resolve_requirements(default: list[str], pip_requirements=None,
                         extra_pip_requirements=None) -> tuple[list[str], list[str]]:
    """(requirements, constraints): ``pip_requirements`` replaces the inferred list,
    ``extra_pip_requirements`` is appended to it; ``-c file`` lines become constraints."""
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise SkiffException.invalid_parameter_value(
            "Only one of pip_requirements and extra_pip_requirements can be given")
    reqs = _read_requirements_arg(pip_requirements) if pip_requirements is not None \
        else list(default)
    for extra in _read_requirements_arg(extra_pip_requirements):
        if extra not in reqs:
            reqs.append(extra)
    constraints: list[str] = []
    kept: list[str] = []
    for req in reqs:
        if req.startswith("-c "):
            constraints.extend(_read_requirements_arg(req[3:].strip()))
        else:
            kept.append(req)
    if constraints:
        kept.append(f"-c {CONSTRAINTS_FILE}")
    return kept, constraints


def _build_dependencies() -> list[str]:
    deps = []
    for dist in ("pip", "setuptools", "wheel"):
        found = _dist_version(dist)
        deps.append(f"{dist}=={found}" if found and dist != "wheel" else dist)
    return deps


def python_env_dict(python_version: str | None = None) -> dict:
    return {
        "python": python_version or platform.python_version(),
        "build_dependencies": _build_dependencies(),
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }


def conda_env_dict(requirements: list[str], python_version: str | None = None) -> dict:
    pip_version = _dist_version("pip")
    pip_dep = f"pip<={pip_version}" if pip_version else "pip"
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python_version or platform.python_version()}", pip_dep,
                         {"pip": list(requirements)}],
    }


def _requirements_from_conda(conda_env) -> list[str]:
    if isinstance(conda_env, (str, os.PathLike)):
        with open(conda_env) as fh:
            conda_env = yaml.safe_load(fh)
    for dep in conda_env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            return list(dep["pip"])
    return []


def write_env_files(path: str, default_requirements: list[str], pip_requirements=None,
                    extra_pip_requirements=None, conda_env=None) -> list[str]:
    """Write requirements.txt, python_env.yaml, conda.yaml (and constraints.txt) into
    ``path``; returns the requirements written."""
    if conda_env is not None and (pip_requirements is not None
                                  or extra_pip_requirements is not None):
        raise SkiffException.invalid_parameter_value(
            "conda_env cannot be combined with pip_requirements or extra_pip_requirements")
    if conda_env is not None:
        reqs, constraints = _requirements_from_conda(conda_env), []
        conda = conda_env if isinstance(conda_env, dict) else None
    else:
        reqs, constraints = resolve_requirements(default_requirements, pip_requirements,
                                                 extra_pip_requirements)
        conda = None
    if conda is None and isinstance(conda_env, (str, os.PathLike)):
        with open(conda_env) as fh:
            conda = yaml.safe_load(fh)
    with open(os.path.join(path, CONDA_ENV_FILE), "w") as fh:
        yaml.safe_dump(conda or conda_env_dict(reqs), fh, default_flow_style=False,
                       sort_keys=False)
    with open(os.path.join(path, PYTHON_ENV_FILE), "w") as fh:
        yaml.safe_dump(python_env_dict(), fh, default_flow_style=False, sort_keys=False)
    with open(os.path.join(path, REQUIREMENTS_FILE), "w") as fh:
        fh.write("\n".join(reqs) + ("\n" if reqs else ""))
    if constraints:
        with open(os.path.join(path, CONSTRAINTS_FILE), "w") as fh:
            fh.write("\n".join(constraints) + "\n")
    return reqs


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(req: str) -> str | None:
    """'scikit-learn==1.9.1' -> 'scikit-learn'."""
    match = _REQ_NAME.match(req)
    return match.group(1) if match else None
