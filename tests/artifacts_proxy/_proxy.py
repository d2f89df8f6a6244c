"""Helpers for the artifact-proxy tests: a destination per backend (a local folder, or a bucket
on moto / fake-gcs-server / Azurite), a look straight into that storage to check what the
proxy wrote, and a real ``skiff server`` whose environment alone holds the credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from skiff.testing import servers

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
MiB = 1024 * 1024
# What gives a process access to cloud storage; the clients under test must have none.
CLOUD_VARIABLES = ("AWS_", "AZURE_", "GOOGLE_", "STORAGE_EMULATOR_HOST", "CLOUDSDK_",
                   "MLFLOW_S3_", "SKIFF_S3_", "SKIFF_AWS_", "SKIFF_AZURE_", "SKIFF_GOOGLE_")
AZURE_HOST = "devstoreaccount1.blob.core.windows.net"
# The server writes streamed uploads in 8 MiB parts; MLflow's client sends 5 MiB parts, so
# an object's part count tells which path wrote it.
SERVER_PART = 8 * MiB
CLIENT_PART = 5 * MiB
BIG = 2 * CLIENT_PART + 123  # 3 client parts, 2 server parts
SERVER_ENV = {"SKIFF_MULTIPART_UPLOAD_CHUNK_SIZE": str(SERVER_PART),
              "SKIFF_GCS_UPLOAD_CHUNK_SIZE": str(SERVER_PART)}
MLFLOW_CLIENT_ENV = {"MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
                     "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(MiB),
                     "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE": str(CLIENT_PART),
                     "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "GIT_PYTHON_REFRESH": "quiet"}


def clean_env(**extra) -> dict:
    """This process's environment without any Skiff/MLflow setting or cloud credential."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "SKIFF_", "_SKIFF_", "_MLFLOW_", *CLOUD_VARIABLES))}
    env.update(extra)
    return env


class Destination:
    """Where a server's ``--artifacts-destination`` points, and a direct view of it."""

    def __init__(self, name: str, uri: str, env: dict, prefix: str, store=None):
        self.name, self.uri, self.env, self.prefix, self._store = name, uri, env, prefix, store

    def keys(self, below: str = "") -> list[str]:
        """Object keys (paths relative to the destination) below ``below``."""
        full = f"{self.prefix}/{below}".rstrip("/") if self.prefix else below
        if self.name == "local":
            root = Path(self.uri) / below
            return sorted(str(p.relative_to(self.uri)) for p in root.rglob("*") if p.is_file())
        if self.name == "s3":
            pages = self._store.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=full)
            names = [o["Key"] for page in pages for o in page.get("Contents", [])]
        elif self.name == "gcs":
            names = [b.name for b in self._store.list_blobs(self._bucket, prefix=full)]
        else:
            names = [b.name for b in self._store.list_blobs(name_starts_with=full)]
        return sorted(n[len(self.prefix) + 1:] for n in names)

    def parts(self, key: str) -> int | None:
        """How many parts the object was assembled from (None: written in one piece). GCS
        reports a composed object's ``componentCount``; the emulator leaves it out."""
        full = f"{self.prefix}/{key}"
        if self.name == "s3":
            etag = self._store.head_object(Bucket=self._bucket, Key=full)["ETag"].strip('"')
            return int(etag.split("-")[1]) if "-" in etag else None
        if self.name == "gcs":
            return self._store.bucket(self._bucket).get_blob(full).component_count
        if self.name == "azure":
            committed, _ = self._store.get_blob_client(full).get_block_list("committed")
            return len(committed) or None
        return None

    def leftovers(self) -> list[str]:
        """Temporary objects Skiff's GCS multipart keeps at the bucket root while working."""
        if self.name != "gcs":
            return []
        return [b.name for b in self._store.list_blobs(self._bucket, prefix=".skiff-tmp/")]

    @property
    def _bucket(self) -> str:
        return self.uri.split("://", 1)[1].split("/", 1)[0]


def open_destination(name: str, emulator, tmp: Path) -> Destination:
    """A fresh, empty destination of kind ``name`` on an already started emulator."""
    tag = uuid.uuid4().hex[:10]
    if name == "local":
        root = tmp / f"dest-{tag}"
        root.mkdir()
        return Destination(name, str(root), {}, "")
    env = dict(emulator.env)
    if name == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=emulator.url, aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        client.create_bucket(Bucket=f"proxy-{tag}")
        return Destination(name, f"s3://proxy-{tag}/root", env, "root", client)
    if name == "gcs":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(project="skiff-test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": emulator.url})
        client.create_bucket(f"proxy-{tag}")
        return Destination(name, f"gs://proxy-{tag}/root", env, "root", client)
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"])
    container = service.create_container(f"proxy-{tag}")
    return Destination(name, f"wasbs://proxy-{tag}@{AZURE_HOST}/root", env, "root", container)


def start_emulator(name: str):
    return {"s3": servers.start_moto, "gcs": servers.start_gcs_emulator,
            "azure": servers.start_azurite}[name]()


class SkiffServer:
    """``skiff server`` in a subprocess (one gunicorn worker), stopped with its group."""

    def __init__(self, destination: Destination, root: Path, *extra: str, env=None):
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / f"server-{self.port}.log"
        args = [sys.executable, "-m", "skiff.cli", "server", "--port", str(self.port),
                "--workers", "1", "--backend-store-uri", str(root / f"mlruns-{self.port}"),
                "--artifacts-destination", destination.uri,
                "--gunicorn-opts", "--access-logfile -", *extra]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                         env=clean_env(**destination.env, **(env or {})),
                                         start_new_session=True)
        self._wait_healthy(60)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not healthy in {timeout}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def requests_to(self, fragment: str) -> list[str]:
        """Access-log lines whose request contains ``fragment``."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if fragment in line]

    def stop(self) -> None:
        servers.LocalServer("skiff", self.url, self.port, self.proc, str(self.log_path)).stop()


def make_payload(root: Path, big_size: int) -> dict[str, bytes]:
    """The files each client logs: a small one, a little tree and one big enough for the
    multipart paths. Returns {relative path: bytes}."""
    files = {
        "notes.txt": b"hello proxy\n",
        "tree/a.json": b'{"a": 1}',
        "tree/sub/b.bin": os.urandom(3000),
        "tree/sub/empty.txt": b"",
        "model/weights.bin": os.urandom(big_size),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files
