"""The ``docker`` deployment target: build the model's image, run it on this host's network,
predict over HTTP, delete. Containers are found again by their ``skiff.deployment`` label."""

from __future__ import annotations

import json
import socket
import tempfile
import time

from skiff.deployments.base import BaseDeploymentClient, PredictionsResponse
from skiff.errors import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, SkiffException

LABEL = "skiff.deployment"
KEYS = {"port", "base_image", "env_manager", "enable_mlserver", "bundle_dependencies",
        "network", "image", "env", "timeout_seconds", "build_network"}


def _config(config: dict | None) -> dict:
    values = dict(config or {})
    unknown = set(values) - KEYS
    if unknown:
        raise SkiffException.invalid_parameter_value(
            f"Unknown docker config {', '.join(sorted(unknown))}; known: {', '.join(sorted(KEYS))}")
    for key in ("enable_mlserver", "bundle_dependencies"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip().lower() in ("1", "true", "yes")
    if isinstance(values.get("env"), str):
        values["env"] = json.loads(values["env"])
    return values


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _container_name(name: str) -> str:
    return f"skiff-{name}"


class DockerDeploymentClient(BaseDeploymentClient):
    """Each deployment is one container named ``skiff-<name>`` serving on its own port."""

    @property
    def _docker(self):
        from skiff_deploy_docker.image import docker_client

        if not hasattr(self, "_client"):
            self._client = docker_client()
        return self._client

    def _find(self, name: str):
        found = self._docker.containers.list(all=True, filters={"label": f"{LABEL}={name}"})
        return found[0] if found else None

    def _build(self, name, model_uri, values) -> str:
        if values.get("image"):
            return values["image"]
        from skiff_deploy_docker.image import build_image, generate_build_context

        tag = f"skiff-deploy-{name.lower()}:latest"
        with tempfile.TemporaryDirectory(prefix="skiff-docker-") as context:
            generate_build_context(
                context, model_uri, env_manager=values.get("env_manager"),
                base_image=values.get("base_image"),
                enable_mlserver=values.get("enable_mlserver", False),
                bundle_dependencies=values.get("bundle_dependencies", False), model_name=name)
            build_image(context, tag, network=values.get("build_network"), quiet=True)
        return tag

    def _start(self, name, model_uri, image, values, flavor):
        port = int(values.get("port") or _free_port())
        network = values.get("network", "host")
        environment = {"PORT": str(port), "HOST": "127.0.0.1" if network == "host" else "0.0.0.0"}
        mlserver = self._image_labels(image).get("skiff.server") == "mlserver"
        if mlserver and network == "host":
            # MLServer also listens for gRPC and metrics (8081, 8082 by default): on the
            # host's network each deployment needs ports of its own.
            environment.update(MLSERVER_GRPC_PORT=str(_free_port()),
                               MLSERVER_METRICS_PORT=str(_free_port()))
        environment.update({k: str(v) for k, v in (values.get("env") or {}).items()})
        labels = {LABEL: name, "skiff.model-uri": str(model_uri), "skiff.port": str(port),
                  "skiff.flavor": flavor, "skiff.image": image}
        kwargs = {"network_mode": network} if network == "host" else {"ports": {port: port}}
        container = self._docker.containers.run(
            image, name=_container_name(name), detach=True, environment=environment,
            labels=labels, **kwargs)
        try:
            # Skiff's MLServer runtime answers /ping too, once the model has loaded.
            self._wait_ready(container, port, int(values.get("timeout_seconds", 120)))
        except BaseException:
            container.remove(force=True)
            raise
        return {"name": name, "flavor": flavor, "port": port, "image": image,
                "container_id": container.id, "url": f"http://127.0.0.1:{port}"}

    def _image_labels(self, image: str) -> dict:
        import docker

        try:
            return self._docker.images.get(image).labels or {}
        except docker.errors.ImageNotFound:  # containers.run pulls it, as before
            return {}

    @staticmethod
    def _wait_ready(container, port: int, timeout: int) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            container.reload()
            if container.status in ("exited", "dead"):
                logs = container.logs(tail=20).decode("utf-8", "replace")
                raise SkiffException(f"The model container exited before serving: {logs}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SkiffException(f"The model container did not answer /ping on port {port} within "
                             f"{timeout}s: raise -C timeout_seconds", "DEADLINE_EXCEEDED")

    def create_deployment(self, name, model_uri, flavor=None, config=None, endpoint=None):
        from skiff.deployments.models import local_model_dir, read_mlmodel, require_flavor

        values = _config(config)
        flavor = require_flavor(read_mlmodel(local_model_dir(model_uri), model_uri), flavor,
                                model_uri)
        if self._find(name) is not None:
            raise SkiffException(f"A docker deployment {name!r} already exists: update or "
                                 "delete it, or pick another --name", RESOURCE_ALREADY_EXISTS)
        image = self._build(name, model_uri, values)
        return self._start(name, model_uri, image, values, flavor)

    def update_deployment(self, name, model_uri=None, flavor=None, config=None, endpoint=None):
        current = self._find(name)
        if current is None:
            raise SkiffException(f"No docker deployment {name!r}: create it first",
                                 RESOURCE_DOES_NOT_EXIST)
        values = _config(config)
        values.setdefault("port", current.labels.get("skiff.port"))
        model_uri = model_uri or current.labels.get("skiff.model-uri")
        image = self._build(name, model_uri, values)
        current.remove(force=True)
        return self._start(name, model_uri, image, values, flavor or current.labels.get(
            "skiff.flavor", "python_function"))

    def delete_deployment(self, name, config=None, endpoint=None):
        current = self._find(name)
        if current is None:
            return
        image = current.labels.get("skiff.image", "")
        current.remove(force=True)
        if image.startswith("skiff-deploy-"):
            try:
                self._docker.images.remove(image, force=True)
            except Exception:  # noqa: BLE001 - an image still in use elsewhere stays
                pass

    def _describe(self, container) -> dict:
        labels = container.labels
        return {"name": labels.get(LABEL), "flavor": labels.get("skiff.flavor"),
                "model_uri": labels.get("skiff.model-uri"), "port": int(labels["skiff.port"]),
                "image": labels.get("skiff.image"), "status": container.status,
                "container_id": container.id}

    def list_deployments(self, endpoint=None):
        containers = self._docker.containers.list(all=True, filters={"label": LABEL})
        return [self._describe(c) for c in containers]

    def get_deployment(self, name, endpoint=None):
        current = self._find(name)
        if current is None:
            raise SkiffException(f"No docker deployment {name!r}", RESOURCE_DOES_NOT_EXIST)
        return self._describe(current)

    def predict(self, deployment_name=None, inputs=None, endpoint=None):
        import requests

        from skiff.deployments.base import scoring_payload

        name = deployment_name or endpoint
        port = self.get_deployment(name)["port"]
        url = f"http://127.0.0.1:{port}/invocations"
        try:
            answer = requests.post(url, data=scoring_payload(inputs), timeout=60,
                                   headers={"Content-Type": "application/json"})
        except requests.RequestException as exc:
            raise SkiffException(f"Cannot reach deployment {name!r} at {url}: {exc}") from None
        if answer.status_code != 200:
            raise SkiffException(f"Deployment {name!r} answered {answer.status_code}: "
                                 f"{answer.text[:500]}")
        parsed = answer.json()
        if isinstance(parsed, dict) and "predictions" in parsed:
            return PredictionsResponse(parsed)
        return PredictionsResponse({"predictions": parsed})


def run_local(target, name, model_uri, flavor=None, config=None):
    """Build the image and serve it in the foreground until interrupted."""
    client = DockerDeploymentClient(target)
    deployment = client.create_deployment(name, model_uri, flavor, config)
    print(f"Serving {name!r} at {deployment['url']} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        client.delete_deployment(name)


def target_help() -> str:
    return """\
Target URI: docker. Builds an image serving the model (Skiff's scoring server, or MLServer)
and runs it as container skiff-<name> on this host (Docker SDK; DOCKER_HOST is honoured).

Config (-C name=value):
  port                 port the server listens on (default: a free one)
  network              container network (default host; else the port is published)
  image                run this image instead of building one
  base_image           base image for the build (needs python3 with venv)
  env_manager          local (default), virtualenv or uv
  enable_mlserver      true to serve with MLServer (KServe / Seldon Core)
  bundle_dependencies  true to download every wheel here so the build needs no network
  build_network        network for the build (e.g. host)
  env                  JSON of environment variables for the container
  timeout_seconds      how long to wait for /ping (default 120)

Example:
  skiff deployments create -t docker --name churn -m models:/churn@champion -C port=8080
  skiff deployments predict -t docker --name churn -I input.json
"""
