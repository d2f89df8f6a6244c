"""Test, lint and benchmark sessions. ``nox -l`` lists them.

Each distribution is tested in its own virtualenv holding only core and that distribution
(plus its ``test`` dependency group), which proves its declared dependencies are enough.
``integration`` installs everything and runs the cross-distribution tests in ``tests/``.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests", "integration"]

ROOT = Path(__file__).parent
DISTRIBUTIONS = ["core", "server", *sorted(glob.glob("plugins/*"))]
# Distributions every integration run installs (the README's "whole platform").
ALL_DISTRIBUTIONS = [d for d in DISTRIBUTIONS if (ROOT / d / "pyproject.toml").exists()]
MAX_MODULE_LINES = 600
# Tests kept beside one distribution that also need sibling distributions (they skip in that
# distribution's own venv): the integration session, which installs everything, runs them.
CROSS_DISTRIBUTION_TESTS = [
    "plugins/stores-sql/tests/test_migrate_sources.py",  # skiff migrate from mlruns / REST
    "plugins/stores-sql/tests/test_migrate_mlflow_db.py::test_mlflow_sqlite_into_mlruns",
    "plugins/deploy-sagemaker/tests/test_ecr_push.py",  # pushes with deploy-docker's engine
]


def _use_cpu_torch() -> None:
    """skiff-flavor-pytorch needs torch: take the CPU wheel that lies on disk here (pip's
    find-links) instead of the CUDA build PyPI resolves to (gigabytes of nvidia packages).
    uv reads only its own settings, so point it there and pin that wheel."""
    wheels = sorted(glob.glob("/opt/wheels/torch-*+cpu-*.whl"))
    if not wheels or "UV_CONSTRAINT" in os.environ:
        return
    version = Path(wheels[-1]).name.split("-")[1]
    constraint = ROOT / ".cache" / "torch-cpu-constraint.txt"
    constraint.parent.mkdir(parents=True, exist_ok=True)
    constraint.write_text(f"torch=={version}\n")
    os.environ["UV_CONSTRAINT"] = str(constraint)
    os.environ.setdefault("UV_FIND_LINKS", "/opt/wheels")


_use_cpu_torch()


def _local_names() -> dict[str, str]:
    """distribution name -> its folder, so test groups can name sibling distributions."""
    names = {}
    for dist in ALL_DISTRIBUTIONS:
        project = nox.project.load_toml(str(ROOT / dist / "pyproject.toml")).get("project", {})
        names[project.get("name", "")] = dist
    return names


def _test_group(dist: str) -> list[str]:
    pyproject = nox.project.load_toml(str(ROOT / dist / "pyproject.toml"))
    try:
        requirements = list(nox.project.dependency_groups(pyproject, "test"))
    except (KeyError, ValueError):
        return ["pytest"]
    local, out = _local_names(), []
    for requirement in requirements:
        folder = local.get(requirement.split("[")[0].strip())
        out += ["-e", folder] if folder else [requirement]
    return out


def _pytest_env() -> dict[str, str]:
    return {"PYTHONDONTWRITEBYTECODE": "1", "SKIFF_TEST_CACHE": str(ROOT / ".cache" / "venvs")}


@nox.session(python="3.11")
@nox.parametrize("dist", [d for d in ALL_DISTRIBUTIONS if (ROOT / d / "tests").is_dir()])
def tests(session: nox.Session, dist: str) -> None:
    """Run one distribution's tests in a venv with only core and that distribution."""
    requirements = ["-e", "core"] if dist == "core" else ["-e", "core", "-e", dist]
    session.install(*requirements, *_test_group(dist))
    session.run("python", "-m", "pytest", f"{dist}/tests", "-q", "-p", "no:cacheprovider",
                *session.posargs, env=_pytest_env())


@nox.session(python="3.11")
def integration(session: nox.Session) -> None:
    """Install every distribution and run the cross-distribution tests in tests/."""
    args = []
    for dist in ALL_DISTRIBUTIONS:
        args += ["-e", dist]
        args += _test_group(dist)
    session.install(*args, *_test_group("."))
    session.run("python", "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
                *session.posargs, env=_pytest_env())
    if not session.posargs:
        session.run("python", "-m", "pytest", *CROSS_DISTRIBUTION_TESTS, "-q", "-p",
                    "no:cacheprovider", env=_pytest_env())


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff, and no module over the size at which a newcomer loses the thread."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    too_long = []
    for path in sorted(ROOT.glob("**/src/**/*.py")) + sorted((ROOT / "core" / "src").glob("**/*.py")):
        if ".nox" in path.parts or "node_modules" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    if too_long:
        listing = "\n  ".join(too_long)
        session.error(f"Modules over {MAX_MODULE_LINES} lines:\n  {listing}")


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against MLflow (and FastTrackML for the server); prints ratios."""
    args = []
    for dist in ALL_DISTRIBUTIONS:
        args += ["-e", dist]
    session.install(*args, "pandas", "rich", "uv")  # uv builds the peers' virtualenvs
    scripts = session.posargs or sorted(str(p) for p in (ROOT / "bench").glob("**/bench_*.py"))
    for script in scripts:
        session.run("python", script, env={"SKIFF_BENCH": "1"})


if os.environ.get("CI") == "true":
    # CI must never silently reuse a stale environment from a previous submission.
    nox.options.reuse_venv = "no"
