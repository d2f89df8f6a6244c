"""Real images on a private Docker engine started by the tests (skiff_deploy_docker.testing).
Without an engine these tests fail with the engine's own error; they never skip for that."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from skiff_deploy_docker.testing import EngineError, import_base_image, start_engine

MODEL_IMAGE = "skiff-test-model:latest"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    try:
        running = start_engine()
    except EngineError as exc:
        pytest.fail(f"the Docker engine could not start: {exc}")
    try:
        import_base_image(running)
        yield running
    finally:
        running.stop()


@pytest.fixture
def docker_env(engine, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    import docker

    return docker.DockerClient(base_url=engine.host, timeout=900)  # vfs commits are slow


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args))


@pytest.fixture(scope="module")
def model_image(engine, tmp_path_factory):
    """The model's image, built once through `skiff models build-docker`."""
    from conftest import write_model

    from skiff_deploy_docker.testing import BASE_IMAGE

    model = write_model(tmp_path_factory.mktemp("model"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", engine.host)
        result = _cli("models", "build-docker", "-m", str(model), "-n", MODEL_IMAGE,
                      "--base-image", BASE_IMAGE, "--bundle-dependencies", "--network", "host")
    assert result.exit_code == 0, result.output[-3000:]
    return MODEL_IMAGE


def test_built_image_holds_skiff_and_the_model(docker_env, model_image):
    image = docker_env.images.get(model_image)
    assert image.attrs["Config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert "SKIFF_MODEL_PATH=/opt/ml/model" in image.attrs["Config"]["Env"]
    # The image's own Python loads the baked-in model through skiff.pyfunc and scores it.
    probe = ("import json, skiff.pyfunc; m = skiff.pyfunc.load_model('/opt/ml/model'); "
             "print(json.dumps(m.predict([1, 2.5])))")
    output = docker_env.containers.run(model_image, ["-c", probe], entrypoint="python",
                                       network_mode="host", remove=True)
    assert json.loads(output.decode().strip().splitlines()[-1]) == [2.0, 5.0]


def test_docker_target_serves_the_image_over_http(docker_env, model_image, model_dir,
                                                  tmp_path):
    """create (run with --network host, wait for /ping) -> predict over /invocations with
    Skiff's scoring server in the image -> delete. The build itself is the fixture's."""
    result = _cli("deployments", "create", "-t", "docker", "--name", "doubler",
                  "-m", str(model_dir), "-C", f"image={model_image}")
    assert result.exit_code == 0, result.output[-3000:]
    try:
        inputs = tmp_path / "in.json"
        inputs.write_text(json.dumps({"inputs": [1, 2]}))
        result = _cli("deployments", "predict", "-t", "docker", "--name", "doubler",
                      "-I", str(inputs))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"predictions": [2.0, 4.0]}
        listed = json.loads(_cli("deployments", "list", "-t", "docker").stdout)
        assert [d["name"] for d in listed] == ["doubler"]
    finally:
        assert _cli("deployments", "delete", "-t", "docker", "--name", "doubler").exit_code == 0
    assert docker_env.containers.list(all=True, filters={"label": "skiff.deployment"}) == []


MLSERVER_IMAGE = "skiff-test-mlserver:latest"
MLSERVER_MODEL = "skiff-test-mlserver"  # build-docker names the model after the image


@pytest.fixture(scope="module")
def mlserver_image(engine, tmp_path_factory):
    """The model's MLServer image (`build-docker --enable-mlserver`), built once."""
    from conftest import write_model

    from skiff_deploy_docker.testing import BASE_IMAGE

    model = write_model(tmp_path_factory.mktemp("mlserver-model"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", engine.host)
        result = _cli("models", "build-docker", "-m", str(model), "-n", MLSERVER_IMAGE,
                      "--enable-mlserver", "--base-image", BASE_IMAGE, "--bundle-dependencies",
                      "--network", "host")
    assert result.exit_code == 0, result.output[-3000:]
    return MLSERVER_IMAGE


def test_mlserver_image_serves_the_v2_protocol(docker_env, mlserver_image, model_dir, tmp_path):
    """The MLServer image, run by the docker target on the host network on a free port:
    MLServer's readiness, a V2 inference request, and the scoring protocol beside it."""
    import requests

    import skiff.pyfunc

    config = docker_env.images.get(mlserver_image).attrs["Config"]
    assert "MLSERVER_MODEL_IMPLEMENTATION=skiff_mlserver.SkiffRuntime" in config["Env"]
    assert "MLSERVER_MODEL_URI=/opt/ml/model" in config["Env"]
    assert config["Labels"]["skiff.server"] == "mlserver"
    expected = [float(v) for v in skiff.pyfunc.load_model(str(model_dir)).predict([1, 2, 3.5])]

    result = _cli("deployments", "create", "-t", "docker", "--name", "v2",
                  "-m", str(model_dir), "-C", f"image={mlserver_image}")
    assert result.exit_code == 0, result.output[-3000:]
    try:
        port = json.loads(_cli("deployments", "get", "-t", "docker", "--name", "v2").stdout)["port"]
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/v2/health/ready", timeout=10).status_code == 200
        assert requests.get(f"{base}/v2/models/{MLSERVER_MODEL}/ready", timeout=10).ok
        tensor = {"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2, 3.5]}
        answer = requests.post(f"{base}/v2/models/{MLSERVER_MODEL}/infer",
                               json={"id": "r1", "inputs": [tensor]}, timeout=30)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model_name"] == MLSERVER_MODEL and body["id"] == "r1"
        [output] = body["outputs"]
        assert output["name"] == "predictions" and output["datatype"] == "FP64"
        assert output["data"] == expected
        # A request-level content type picks MLServer's codec: here a pandas DataFrame.
        answer = requests.post(f"{base}/v2/models/{MLSERVER_MODEL}/infer", json={
            "parameters": {"content_type": "pd"}, "inputs": [tensor]}, timeout=30)
        assert answer.json()["outputs"][0]["data"] == expected
        # The scoring protocol (/invocations) still answers, so `deployments predict` works.
        inputs = tmp_path / "in.json"
        inputs.write_text(json.dumps({"dataframe_split": {"columns": ["x"],
                                                          "data": [[1], [2], [3.5]]}}))
        result = _cli("deployments", "predict", "-t", "docker", "--name", "v2",
                      "-I", str(inputs))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"predictions": expected}
        bad = requests.post(f"{base}/invocations", json=[1, 2], timeout=30)
        assert bad.status_code == 400 and bad.json()["error_code"] == "BAD_REQUEST"
    finally:
        assert _cli("deployments", "delete", "-t", "docker", "--name", "v2").exit_code == 0


STAND_IN_SERVER = '''
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def _answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer(200 if self.path == "/ping" else 404, "")

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._answer(200, {"predictions": [2 * v for v in body["inputs"]]})


HTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
'''


def test_docker_target_lifecycle_with_a_stand_in_server(docker_env, model_dir, tmp_path):
    """The target's own work (run on the host network, wait for /ping, predict over HTTP,
    list, get, delete) against an image whose server speaks the scoring protocol."""
    from skiff_deploy_docker.testing import BASE_IMAGE

    context = tmp_path / "stand-in"
    context.mkdir()
    (context / "serve.py").write_text(STAND_IN_SERVER)
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY serve.py /serve.py\nENTRYPOINT [\"python3\", \"/serve.py\"]\n")
    docker_env.images.build(path=str(context), tag="skiff-stand-in:latest", network_mode="host")

    result = _cli("deployments", "create", "-t", "docker", "--name", "stand-in",
                  "-m", str(model_dir), "-C", "image=skiff-stand-in:latest")
    assert result.exit_code == 0, result.output
    try:
        got = json.loads(_cli("deployments", "get", "-t", "docker", "--name", "stand-in").stdout)
        assert got["status"] == "running" and got["flavor"] == "python_function"
        inputs = tmp_path / "in.json"
        inputs.write_text(json.dumps({"inputs": [1, 2]}))
        result = _cli("deployments", "predict", "-t", "docker", "--name", "stand-in",
                      "-I", str(inputs))
        assert json.loads(result.stdout) == {"predictions": [2, 4]}
        result = _cli("deployments", "create", "-t", "docker", "--name", "stand-in",
                      "-m", str(model_dir), "-C", "image=skiff-stand-in:latest")
        assert result.exit_code == 1 and "already exists" in result.output
    finally:
        assert _cli("deployments", "delete", "-t", "docker", "--name", "stand-in").exit_code == 0
    assert _cli("deployments", "list", "-t", "docker").stdout.strip() == "[]"
