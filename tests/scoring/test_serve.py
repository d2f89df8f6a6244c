"""`skiff models serve` as a real subprocess: every payload format over HTTP, MLflow's
errors, several workers, the request timeout, and the checks made before serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import skiff_cli, start_server


@pytest.fixture(scope="module")
def iris_server(iris, tmp_path_factory):
    path, X, expected = iris
    server = start_server(path, tmp_path_factory.mktemp("logs"), "-w", "2")
    yield server, X, expected
    server.stop()


def test_ping_health_version(iris_server):
    server, _, _ = iris_server
    import requests

    for route in ("/ping", "/health"):
        resp = requests.get(server.url + route, timeout=10)
        assert resp.status_code == 200 and resp.text == "\n"
        assert resp.headers["Content-Type"].startswith("application/json")
    assert requests.get(server.url + "/version", timeout=10).text[0].isdigit()


def test_every_payload_format(iris_server):
    server, X, expected = iris_server
    rows = X.head(10)
    want = {"predictions": expected[:10]}
    split = json.loads(rows.to_json(orient="split", index=False))
    records = json.loads(rows.to_json(orient="records"))
    for payload in ({"dataframe_split": split},
                    {"dataframe_records": records},
                    {"instances": records},
                    {"inputs": {c: rows[c].tolist() for c in rows.columns}},
                    {"inputs": rows.values.tolist()}):
        resp = server.post(payload)
        assert resp.status_code == 200, (payload, resp.text)
        assert resp.json() == want
    resp = server.post(data=rows.to_csv(index=False), content_type="text/csv")
    assert resp.status_code == 200 and resp.json() == want
    resp = server.post(data=json.dumps({"dataframe_split": split}),
                       content_type="application/json; charset=UTF-8")
    assert resp.json() == want


def test_errors_over_http(iris_server):
    server, X, _ = iris_server
    resp = server.post(data="1,2", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and "text/csv" in resp.json()["message"]
    resp = server.post({"dataframe_records": [{"sepal length (cm)": 1.0}]})
    assert resp.status_code == 400
    body = resp.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "petal width (cm)" in body["message"]
    record = json.loads(X.head(1).to_json(orient="records"))[0]
    record["sepal width (cm)"] = "wide"
    resp = server.post({"dataframe_records": [record]})
    assert resp.status_code == 400
    assert "sepal width (cm)" in resp.json()["message"] and "double" in resp.json()["message"]
    resp = server.post({"data": [[1, 2, 3, 4]]})
    assert resp.status_code == 400 and "dataframe_split" in resp.json()["message"]


def test_timeout(tmp_path, serve):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "server", "tests"))
    try:
        import scoring_models
    finally:
        sys.path.pop(0)
    import pandas as pd

    from skiff.models import infer_signature
    from skiff.pyfunc import save_model

    example = pd.DataFrame({"a": [1.0]})
    path = str(tmp_path / "busy")
    save_model(path, python_model=scoring_models.Busy(), code_paths=[scoring_models.__file__],
               signature=infer_signature(example))
    server = serve(path, "-t", "1")
    start = time.monotonic()
    resp = server.post({"dataframe_records": [{"a": 1.0}]})
    assert resp.status_code == 504, resp.text
    assert resp.json()["message"] == "Request processing time exceeded limit"
    assert time.monotonic() - start < 4
    assert server.post({"dataframe_records": [{"a": 1.0}]}).status_code == 504


def _run(*args, **kw):
    return subprocess.run(skiff_cli(*args), capture_output=True, text=True, timeout=120, **kw)


def test_missing_model_is_reported_before_any_environment(tmp_path):
    env = {**os.environ, "SKIFF_ENV_ROOT": str(tmp_path / "envs")}
    for manager in ("uv", "virtualenv", "conda", "local"):
        result = _run("models", "serve", "-m", str(tmp_path / "nope"), "--env-manager",
                      manager, env=env)
        assert result.returncode == 1
        assert "does not exist" in result.stderr and "nope" in result.stderr
    assert not (tmp_path / "envs").exists()
    result = _run("models", "predict", "-m", "runs:/0123456789abcdef/model", "-i",
                  __file__, env={**env, "SKIFF_TRACKING_URI": str(tmp_path / "mlruns")})
    assert result.returncode == 1 and "0123456789abcdef" in result.stderr


def test_conda_and_mlserver_say_what_is_missing(iris, tmp_path):
    import shutil

    path, _, _ = iris
    if shutil.which("conda") is None:
        result = _run("models", "serve", "-m", path, "--env-manager", "conda")
        assert result.returncode == 1 and "conda was not found" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    result = _run("models", "serve", "-m", path, "--enable-mlserver")
    assert result.returncode != 0 and "--enable-mlserver" in result.stderr


def test_serve_without_python_function(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "MLmodel").write_text("flavors:\n  other: {}\n")
    result = _run("models", "serve", "-m", str(tmp_path / "m"), "--env-manager", "local")
    assert result.returncode == 1 and "python_function" in result.stderr
