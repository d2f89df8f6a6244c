"""A moto server (S3, SageMaker, ECR, STS, IAM on one port) for the whole session, reset
between tests; every AWS client reaches it through AWS_ENDPOINT_URL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import requests
from sagemaker_test_env import REGION


@pytest.fixture(scope="session")
def moto_url():
    from skiff.testing import servers

    script = str(Path(__file__).with_name("moto_sagemaker_server.py"))
    try:
        if not servers._python_has("moto.server", sys.executable):
            raise servers.ServerUnavailable("moto is not installed: pip install 'moto[server]'")
        port = servers.free_port()
        server = servers._spawn("moto-sagemaker",
                                [sys.executable, script, "-H", "127.0.0.1", "-p", str(port)],
                                port, f"http://127.0.0.1:{port}")
    except servers.ServerUnavailable as exc:
        servers.unavailable(exc)
    with server:
        yield server.url


@pytest.fixture
def aws(moto_url, monkeypatch, tmp_path):
    """AWS settings pointing at moto, with no real profile or region leaking in."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    import boto3

    session = boto3.Session(region_name=REGION)
    session.client("s3").create_bucket(Bucket="models")
    return session


@pytest.fixture
def model_dir(tmp_path):
    """A small pyfunc model directory written by hand (MLmodel + its files)."""
    path = tmp_path / "model"
    path.mkdir()
    (path / "MLmodel").write_text(
        "flavors:\n"
        "  python_function:\n"
        "    loader_module: skiff.pyfunc.model\n"
        "    python_model: python_model.pkl\n"
        "    python_version: 3.11.0\n"
        "    env:\n      virtualenv: python_env.yaml\n"
        "mlflow_version: 3.1.0\n")
    (path / "python_model.pkl").write_bytes(b"\x80\x04N.")
    (path / "requirements.txt").write_text("skiff-core\n")
    (path / "python_env.yaml").write_text("python: 3.11.0\n")
    return path
