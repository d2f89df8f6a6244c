"""``skiff sagemaker build-and-push-container``'s push, end to end: a real Docker engine (the
one skiff-deploy-docker's tests start) pushes an image with the login token that moto's ECR
hands out. No ECR registry endpoint is reachable here, so the repository URI that ECR returns
is pointed at the small v2 registry in image_registry.py; the ECR calls, the engine, tagging,
the streamed push and its error handling are the real ones.

Needs skiff-deploy-docker, so the integration session runs it (noxfile
CROSS_DISTRIBUTION_TESTS); without an engine it fails with the engine's error."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest
from click.testing import CliRunner
from sagemaker_test_env import REGION

pytest.importorskip("skiff_deploy_docker")


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args))


def _tiny_rootfs() -> bytes:
    """A root filesystem of one file: enough to be an image with one layer."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        payload = b"served by skiff\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


@pytest.fixture
def engine(monkeypatch):
    from skiff_deploy_docker.testing import EngineError, start_engine

    try:
        running = start_engine()
    except EngineError as exc:
        pytest.fail(f"the Docker engine could not start: {exc}")
    monkeypatch.setenv("DOCKER_HOST", running.host)
    try:
        yield running
    finally:
        running.stop()


def test_push_sends_the_image_to_the_repository_ecr_names(aws, engine, monkeypatch):
    import docker
    from image_registry import ImageRegistry

    from skiff.version import VERSION
    from skiff_deploy_sagemaker import container

    client = docker.DockerClient(base_url=engine.host)
    client.api.import_image_from_data(_tiny_rootfs(), repository="skiff-tiny", tag="latest")
    real_repository = container.ensure_repository
    with ImageRegistry() as registry:
        # ECR's answer, <account>.dkr.ecr.<region>.amazonaws.com/<name>, moved to the local
        # registry: everything after the host is kept.
        monkeypatch.setattr(container, "ensure_repository", lambda aws, name: (
            f"{registry.host}/{real_repository(aws, name).split('/', 1)[1]}"))
        result = _cli("sagemaker", "build-and-push-container", "--no-build", "-c",
                      "skiff-tiny", "--region-name", REGION)
        assert result.exit_code == 0, result.output
        assert f"Pushed {registry.host}/skiff-tiny:{VERSION}" in result.output
        content_type, body = registry.manifests[("skiff-tiny", VERSION)]
    ecr = aws.client("ecr", region_name=REGION)
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == [
        "skiff-tiny"]
    manifest = json.loads(body)
    assert "manifest" in content_type
    assert manifest["config"]["digest"] in registry.blobs
    (layer,) = manifest["layers"]
    data = registry.blobs[layer["digest"]]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.extractfile("hello.txt").read() == b"served by skiff\n"


def test_a_refused_push_is_one_line(aws, engine, monkeypatch):
    import docker

    from skiff.testing.servers import free_port
    from skiff_deploy_sagemaker import container

    client = docker.DockerClient(base_url=engine.host)
    client.api.import_image_from_data(_tiny_rootfs(), repository="skiff-tiny", tag="latest")
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setattr(container, "ensure_repository",
                        lambda aws, name: f"{closed}/{name}")
    result = _cli("sagemaker", "build-and-push-container", "--no-build", "-c", "skiff-tiny",
                  "--region-name", REGION)
    assert result.exit_code == 1
    progress, error = result.output.strip().split("\n")  # "Pushing ...", then one line
    assert progress.startswith(f"Pushing {closed}/skiff-tiny:")
    assert error.startswith(f"Error: Pushing to {closed}/skiff-tiny failed")
    assert "connection refused" in error
