"""Environment managers with real environments, and training code that uses the real
MLflow client (`import mlflow`) logging into the run `skiff run` created."""

import os

import pytest

import skiff
from skiff import projects

MLFLOW_SCRIPT = """\
import os, sys
import mlflow

expected = os.environ["MLFLOW_RUN_ID"]  # MLflow unsets it once the run is resumed
with mlflow.start_run() as run:
    mlflow.log_param("lib", "mlflow " + mlflow.__version__)
    mlflow.log_metric("score", 0.75, step=1)
    mlflow.set_tag("prefix", sys.prefix)
    mlflow.log_text("logged by MLflow", "notes/hello.txt")
    assert run.info.run_id == expected
"""


def mlflow_project(root, command):
    root.mkdir()
    (root / "MLproject").write_text(
        "name: mlflow-client\nentry_points:\n  main:\n"
        "    parameters: {python: {type: string, default: python}}\n"
        f"    command: \"{command}\"\n")
    (root / "log.py").write_text(MLFLOW_SCRIPT)
    return root


def assert_logged_by_mlflow(run_id, version="3.17.2"):
    run = skiff.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["lib"] == f"mlflow {version}"
    assert run.data.metrics["score"] == 0.75
    from skiff.artifacts.download import load_text

    assert load_text(f"runs:/{run_id}/notes/hello.txt") == "logged by MLflow"
    return run


def test_real_mlflow_client_logs_into_the_project_run(tmp_path):
    from skiff.testing.venvs import MLFLOW_3, ensure_venv

    python = ensure_venv("mlflow3", [MLFLOW_3])
    root = mlflow_project(tmp_path / "proj", command="{python} log.py")
    submitted = projects.run(str(root), parameters={"python": str(python)},
                             env_manager="local")
    run = assert_logged_by_mlflow(submitted.run_id)
    assert run.data.tags["mlflow.source.type"] == "PROJECT"


def where_project(root, python_env):
    root.mkdir()
    (root / "python_env.yaml").write_text(python_env)
    (root / "where.py").write_text(
        "import os, sys\nopen(os.environ['WHERE_OUT'], 'w').write(sys.prefix)\n")
    return root


def run_where(root, out, **kwargs):
    os.environ["WHERE_OUT"] = str(out)
    try:
        return projects.run(str(root), entry_point="where.py", **kwargs)
    finally:
        del os.environ["WHERE_OUT"]


def test_uv_env_manager_builds_the_python_env_once(tmp_path, env_root):
    from skiff.projects.envs import EnvOptions, UvEnvManager, environment_hash, read_python_env
    from skiff.projects.spec import load_project

    root = where_project(tmp_path / "proj", "python: '3.11'\ndependencies: []\n")
    spec = load_project(str(root))
    env_dir = env_root / f"skiff-{environment_hash(spec, read_python_env(spec), 'uv')}"
    out = tmp_path / "prefix.txt"
    submitted = run_where(root, out, env_manager="uv")
    assert out.read_text() == str(env_dir)
    assert skiff.get_run(submitted.run_id).data.tags["mlflow.project.env"] == "uv"
    marker = env_dir / ".complete"
    built = marker.stat().st_mtime
    again = UvEnvManager().prepare(spec, EnvOptions())
    assert again.path_dirs == [str(env_dir / "bin")]
    assert marker.stat().st_mtime == built  # reused, not rebuilt


def test_virtualenv_env_manager_without_dependencies(tmp_path, env_root):
    root = where_project(tmp_path / "proj", "python: '3.11'\n")
    out = tmp_path / "prefix.txt"
    submitted = run_where(root, out)  # virtualenv: the default for python_env projects
    assert out.read_text().startswith(str(env_root) + os.sep + "skiff-")
    run = skiff.get_run(submitted.run_id)
    assert run.data.tags["mlflow.project.env"] == "virtualenv"
    assert run.data.tags["mlflow.project.entryPoint"] == "where.py"


def test_unknown_python_version_fails_before_the_run(tmp_path, env_root):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "python_env.yaml").write_text("python: '2.1.9'\n")
    (root / "x.py").write_text("")
    with pytest.raises(skiff.SkiffException, match="Python 2.1.9"):
        projects.run(str(root), entry_point="x.py", env_manager="uv")
    assert skiff.search_runs(search_all_experiments=True, output_format="list") == []
