"""Build contexts from `skiff models generate-dockerfile` (no Docker engine needed)."""

from __future__ import annotations

import click
from click.testing import CliRunner


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args))


def test_context_serves_the_model_with_skiffs_scoring_server(model_dir, tmp_path):
    out = tmp_path / "ctx"
    result = _cli("models", "generate-dockerfile", "-m", str(model_dir), "-d", str(out),
                  "--base-image", "debian-python:local")
    assert result.exit_code == 0, result.output
    dockerfile = (out / "Dockerfile").read_text()
    assert dockerfile.splitlines()[1] == "FROM debian-python:local"
    assert "COPY . /opt/skiff/" in dockerfile
    assert "ln -s /opt/skiff/model /opt/ml/model" in dockerfile
    assert "-r /opt/skiff/model/requirements.txt" in dockerfile
    # Two filesystem layers only: every layer is a full copy under the vfs driver.
    assert sum(line.startswith(("COPY", "RUN", "ADD")) for line in dockerfile.splitlines()) == 2
    assert "EXPOSE 8080" in dockerfile
    wheels = sorted(p.name for p in (out / "dists").glob("*.whl"))
    assert [w.split("-")[0] for w in wheels] == ["skiff_core", "skiff_server"]
    for wheel in wheels:
        assert f"/opt/skiff/dists/{wheel}" in dockerfile
    assert "'numpy' 'pandas'" in dockerfile  # the scoring server parses inputs with them
    assert (out / "model" / "code" / "echo_model.py").exists()
    entrypoint = (out / "entrypoint.sh").read_text()
    assert 'skiff models serve -m "$SKIFF_MODEL_PATH"' in entrypoint
    assert '-p "${PORT:-8080}"' in entrypoint and "SKIFF_MODEL_PATH=/opt/ml/model" in dockerfile


def test_mlserver_context_uses_skiffs_runtime(model_dir, tmp_path):
    out = tmp_path / "ctx"
    result = _cli("models", "generate-dockerfile", "-m", str(model_dir), "-d", str(out),
                  "--enable-mlserver")
    assert result.exit_code == 0, result.output
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM python:3." in dockerfile and "'mlserver>=1.4,<2'" in dockerfile
    # MLServer with Skiff's own runtime: neither MLflow nor Skiff's scoring server.
    assert "mlflow" not in dockerfile and "skiff_server" not in dockerfile
    assert [p.name for p in (out / "dists").glob("*.whl")] == [
        next(p.name for p in (out / "dists").glob("skiff_core-*.whl"))]
    # Configured as MLflow's MLServer images are: through MLServer's environment variables.
    for setting in ("MLSERVER_MODEL_IMPLEMENTATION=skiff_mlserver.SkiffRuntime",
                    "MLSERVER_MODEL_URI=/opt/ml/model", 'MLSERVER_MODEL_NAME="model"',
                    "MLSERVER_HTTP_PORT=8080"):
        assert setting in dockerfile
    assert 'skiff.server="mlserver"' in dockerfile and "EXPOSE 8080" in dockerfile
    assert sum(line.startswith(("COPY", "RUN", "ADD")) for line in dockerfile.splitlines()) == 2
    runtime = (out / "mlserver" / "skiff_mlserver.py").read_text()
    assert "class SkiffRuntime(MLModel)" in runtime and "skiff_deploy_docker" not in runtime
    assert "cp /opt/skiff/mlserver/skiff_mlserver.py" in dockerfile
    entrypoint = (out / "entrypoint.sh").read_text()
    assert "exec mlserver start /opt/mlserver" in entrypoint
    assert 'MLSERVER_HTTP_PORT="$PORT"' in entrypoint


def test_without_a_model_the_image_serves_what_is_mounted(tmp_path):
    out = tmp_path / "ctx"
    assert _cli("models", "generate-dockerfile", "-d", str(out)).exit_code == 0
    dockerfile = (out / "Dockerfile").read_text()
    assert "/opt/skiff/model" not in dockerfile and "mkdir -p /opt/ml/model" in dockerfile
    assert "requirements.txt" in (out / "entrypoint.sh").read_text()


def test_bad_input_is_one_line(model_dir, tmp_path):
    result = _cli("models", "generate-dockerfile", "-m", str(model_dir), "-d",
                  str(tmp_path / "c"), "--env-manager", "conda")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "--env-manager 'conda' is not supported" in result.output
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "MLmodel").write_text("flavors:\n  sklearn: {}\n")
    result = _cli("models", "generate-dockerfile", "-m", str(bare), "-d", str(tmp_path / "d"))
    assert result.exit_code == 1 and "has no python_function flavor" in result.output


def test_commands_join_an_existing_models_group():
    from skiff_deploy_docker import plugin

    root = click.Group("skiff")
    models = click.Group("models")
    models.add_command(click.Command("serve", callback=lambda: None))
    root.add_command(models)
    plugin.register_commands(root)
    assert set(root.commands["models"].commands) == {"serve", "build-docker",
                                                    "generate-dockerfile"}
    fresh = click.Group("skiff")
    plugin.register_commands(fresh)
    assert set(fresh.commands["models"].commands) == {"build-docker", "generate-dockerfile"}


def test_docker_target_is_registered_with_help():
    result = _cli("deployments", "help", "-t", "docker")
    assert "skiff-<name>" in result.output and "enable_mlserver" in result.output


def test_docker_target_without_an_engine_is_one_line(model_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = _cli("deployments", "create", "-t", "docker", "--name", "x", "-m", str(model_dir))
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "Cannot reach the Docker engine" in result.output and "DOCKER_HOST" in result.output
    result = _cli("deployments", "create", "-t", "docker", "--name", "x", "-m", str(model_dir),
                  "-C", "colour=red")
    assert result.exit_code == 1 and "Unknown docker config colour" in result.output
