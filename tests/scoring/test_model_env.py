"""The model's environment: what defines it (unit), and a real uv environment built from
the model's files, reused by hash, and used by `skiff models predict`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest
from conftest import skiff_cli

from skiff.models.envs import env_hash, model_env_spec


def _model_dir(tmp_path, requirements, python_env=True, conda=None, constraints=None):
    folder = tmp_path / "model"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n")
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")
    if python_env:
        (folder / "python_env.yaml").write_text(
            "python: 3.11.7\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n")
    if conda:
        (folder / "conda.yaml").write_text(conda)
    if constraints:
        (folder / "constraints.txt").write_text("\n".join(constraints) + "\n")
    return str(folder)


def test_spec_leaves_mlflow_out_and_reads_constraints(tmp_path):
    path = _model_dir(tmp_path, ["mlflow==3.17.2", "scikit-learn==1.9.1",
                                 "-c constraints.txt"], constraints=["numpy<3"])
    spec = model_env_spec(path)
    assert spec["python"] == "3.11.7" and spec["build_dependencies"] == ["pip"]
    assert spec["requirements"] == ["scikit-learn==1.9.1"]
    assert spec["constraints"] == ["numpy<3"]
    assert any("core" in s or s.startswith("skiff-core") for s in spec["skiff"])
    with_mlflow = model_env_spec(path, install_mlflow=True)
    assert "mlflow==3.17.2" in with_mlflow["requirements"]
    assert env_hash(spec, "uv") != env_hash(with_mlflow, "uv")
    assert env_hash(spec, "uv") != env_hash(spec, "virtualenv")
    assert env_hash(spec, "uv") == env_hash(model_env_spec(path), "uv")


def test_spec_hash_follows_the_requirements(tmp_path):
    first = model_env_spec(_model_dir(tmp_path / "a", ["pandas==3.1.1"]))
    second = model_env_spec(_model_dir(tmp_path / "b", ["pandas==3.1.0"]))
    assert env_hash(first, "uv") != env_hash(second, "uv")
    overridden = model_env_spec(_model_dir(tmp_path / "c", ["pandas==3.1.1"]),
                                pip_requirements_override=["pandas==3.0.0"])
    assert overridden["overrides"] == ["pandas==3.0.0"]


def test_spec_from_conda_yaml_without_python_env(tmp_path):
    conda = ("name: mlflow-env\nchannels: [conda-forge]\ndependencies:\n- python=3.11.7\n"
             "- pip\n- pip:\n  - mlflow==2.22.5\n  - scikit-learn==1.9.1\n")
    (tmp_path / "x").mkdir()
    path = _model_dir(tmp_path / "x", [], python_env=False, conda=conda)
    os.remove(os.path.join(path, "requirements.txt"))
    spec = model_env_spec(path)
    assert spec["python"] == "3.11.7" and spec["requirements"] == ["scikit-learn==1.9.1"]


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_uv_environment_is_built_once_and_used(iris, tmp_path):
    from skiff.testing.venvs import cache_root

    path, X, expected = iris
    # Kept between test runs (as the compatibility venvs are): the hash names the content.
    env = {**os.environ, "SKIFF_ENV_ROOT": str(cache_root().parent / "model-envs")}
    first = subprocess.run(skiff_cli("models", "prepare-env", "-m", path, "--env-manager",
                                     "uv"), capture_output=True, text=True, env=env,
                           timeout=600)
    assert first.returncode == 0, first.stderr
    begin = time.perf_counter()
    again = subprocess.run(skiff_cli("models", "prepare-env", "-m", path, "--env-manager",
                                     "uv"), capture_output=True, text=True, env=env,
                           timeout=120)
    assert again.returncode == 0 and "Building" not in again.stderr
    assert time.perf_counter() - begin < 30
    python = again.stderr.strip().split()[-1]
    assert python.startswith(env["SKIFF_ENV_ROOT"]) and first.stderr.strip().endswith(python)
    payload = {"dataframe_split": json.loads(X.head(3).to_json(orient="split", index=False))}
    (tmp_path / "in.json").write_text(json.dumps(payload))
    result = subprocess.run(skiff_cli("models", "predict", "-m", path, "--env-manager", "uv",
                                      "-i", str(tmp_path / "in.json")),
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"predictions": expected[:3]}
    # It ran in the model's environment, which holds the model's pins and no torch.
    probe = subprocess.run([python, "-c", "import sklearn, importlib.util as u; "
                            "print(sklearn.__version__, u.find_spec('torch') is None)"],
                           capture_output=True, text=True, timeout=60)
    assert probe.stdout.split() == ["1.9.1", "True"]
