"""The docker environment manager: the command runs in a container of ``docker_env.image``
(or of an image built from it with the project copied in, for ``--build-image``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from skiff.errors import SkiffException
from skiff.projects.envs import Activation, EnvManager, _run_tool

CODE_DIR = "/mlflow/projects/code/"
CONTAINER_MLRUNS = "/mlflow/tmp/mlruns"
_FORWARDED = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "SKIFF_RUN_ID", "SKIFF_EXPERIMENT_ID",
              "MLFLOW_TRACKING_URI", "SKIFF_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE")


def engine_problem() -> str | None:
    """None when a Docker engine answers, else why not (one line)."""
    docker = shutil.which("docker")
    if docker is None:
        return "the docker command is not on PATH"
    try:
        result = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"],
                                capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "docker did not answer within 20 seconds"
    if result.returncode == 0 and result.stdout.strip():
        return None
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else f"docker version exited with {result.returncode}"


class DockerEnvManager(EnvManager):
    name = "docker"

    def check(self, project):
        if project.docker_env is None:
            raise SkiffException.invalid_parameter_value(
                "--env-manager docker needs a project with docker_env in its MLproject")
        problem = engine_problem()
        if problem:
            raise SkiffException.invalid_parameter_value(
                f"No Docker engine answered ({problem}); start Docker, or run without "
                "docker_env using --env-manager local|virtualenv|uv|conda")

    def prepare(self, project, options):
        image = project.docker_env.image
        tags = {"mlflow.docker.image.uri": image}
        if options.docker_auth:
            _login(options.docker_auth)
        if options.build_image:
            name = project.name or "skiff-project"
            image = f"{name.lower()}:{(options.git_commit or 'latest')[:7]}"
            with tempfile.TemporaryDirectory() as tmp:
                dockerfile = os.path.join(tmp, "Dockerfile")
                with open(dockerfile, "w") as f:
                    f.write(f"FROM {project.docker_env.image}\nCOPY . {CODE_DIR}\n"
                            f"WORKDIR {CODE_DIR}\n")
                _run_tool(["docker", "build", "-q", "-t", image, "-f", dockerfile,
                           project.directory], f"build the image {image}")
            tags["mlflow.docker.image.uri"] = image
        try:
            inspect = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}",
                                      image], capture_output=True, text=True, timeout=60)
            if inspect.returncode == 0:
                tags["mlflow.docker.image.id"] = inspect.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):  # the id tag is informative only
            pass

        def build(command: str, env: dict[str, str]) -> list[str]:
            argv = ["docker", "run", "--rm"]
            if not options.build_image:
                argv += ["-v", f"{project.directory}:{CODE_DIR}"]
            argv += ["-w", CODE_DIR]
            tracking = env.get("MLFLOW_TRACKING_URI", "")
            from skiff.registry import uri_scheme

            forwarded = {k: env[k] for k in _FORWARDED if k in env}
            if tracking and uri_scheme(tracking) in ("", "file"):
                from skiff.utils.uri import local_path_from_uri

                argv += ["-v", f"{local_path_from_uri(tracking)}:{CONTAINER_MLRUNS}"]
                forwarded["MLFLOW_TRACKING_URI"] = forwarded["SKIFF_TRACKING_URI"] = (
                    "file://" + CONTAINER_MLRUNS)
            for volume in project.docker_env.volumes:
                argv += ["-v", volume]
            for item in project.docker_env.environment:
                if isinstance(item, list) and len(item) == 2:
                    forwarded[str(item[0])] = str(item[1])
                elif isinstance(item, str) and item in os.environ:
                    forwarded[item] = os.environ[item]
            for key, value in forwarded.items():
                argv += ["-e", f"{key}={value}"]
            for key, value in options.docker_args.items():
                argv += [f"--{key}"] if value is True else [f"--{key}", str(value)]
            return [*argv, image, "bash", "-c", command]

        return Activation(run_tags=tags, builder=build)


def _login(auth: dict) -> None:
    """``docker login`` with ``{"registry", "username", "password"}`` (MLflow's docker_auth)."""
    argv = ["docker", "login", "--username", str(auth.get("username", "")),
            "--password-stdin"]
    if auth.get("registry"):
        argv.append(str(auth["registry"]))
    result = subprocess.run(argv, input=str(auth.get("password", "")), capture_output=True,
                            text=True)
    if result.returncode != 0:
        lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
        raise SkiffException(f"docker login failed: {lines[-1] if lines else result.returncode}",
                             "INVALID_PARAMETER_VALUE")
