"""`skiff models predict` (JSON and CSV, files and pipes) and `prepare-env`."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import skiff_cli


def _run(*args, input=None, env=None):
    return subprocess.run(skiff_cli(*args), capture_output=True, text=True, input=input,
                          timeout=300, env={**os.environ, **(env or {})})


def test_predict_json_file_to_file(iris, tmp_path):
    path, X, expected = iris
    payload = {"dataframe_split": json.loads(X.head(5).to_json(orient="split", index=False))}
    (tmp_path / "in.json").write_text(json.dumps(payload))
    result = _run("models", "predict", "-m", path, "-i", str(tmp_path / "in.json"),
                  "-o", str(tmp_path / "out.json"), "--env-manager", "local")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"predictions": expected[:5]}


def test_predict_csv_from_stdin(iris):
    path, X, expected = iris
    result = _run("models", "predict", "-m", path, "-t", "csv", "--env-manager", "local",
                  input=X.head(4).to_csv(index=False))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"predictions": expected[:4]}


def test_predict_reports_bad_input_in_one_line(iris, tmp_path):
    path, _, _ = iris
    (tmp_path / "in.json").write_text(json.dumps({"dataframe_records": [{"x": 1}]}))
    result = _run("models", "predict", "-m", path, "-i", str(tmp_path / "in.json"),
                  "--env-manager", "local")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "sepal length (cm)" in result.stderr
    (tmp_path / "in.json").write_text(json.dumps({"rows": [[1, 2, 3, 4]]}))
    result = _run("models", "predict", "-m", path, "-i", str(tmp_path / "in.json"),
                  "--env-manager", "local")
    assert result.returncode == 1 and "dataframe_split" in result.stderr


def test_predict_env_variables(tmp_path):
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "server", "tests"))
    try:
        import scoring_models
    finally:
        sys.path.pop(0)
    path = scoring_models.save(tmp_path / "linear", scoring_models.Linear())
    code_dir = os.path.dirname(scoring_models.__file__)
    result = _run("models", "predict", "-m", path, "--env-manager", "local",
                  "--env", f"PYTHONPATH={code_dir}",
                  input=json.dumps({"inputs": {"a": [1.0], "b": [1.0]},
                                    "params": {"scale": 10.0}}),
                  env={"PYTHONPATH": code_dir})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"predictions": [30.0]}
    result = _run("models", "predict", "-m", path, "--env", "NOEQUALS", input="{}")
    assert result.returncode == 2 and "KEY=VALUE" in result.stderr


def test_prepare_env_local_is_a_no_op(iris):
    path, _, _ = iris
    result = _run("models", "prepare-env", "-m", path, "--env-manager", "local")
    assert result.returncode == 0 and "nothing to build" in result.stderr
