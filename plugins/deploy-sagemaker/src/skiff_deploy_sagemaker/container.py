"""``build-and-push-container``: the serving image SageMaker runs, pushed to ECR."""

from __future__ import annotations

import base64
import tempfile

from skiff.errors import SkiffException
from skiff_deploy_sagemaker.aws import AwsContext, aws_errors, is_not_found
from skiff_deploy_sagemaker.endpoints import _say


def _docker_image_module():
    try:
        from skiff_deploy_docker import image
    except ImportError:
        raise SkiffException(
            "Building the serving image needs skiff-deploy-docker: pip install "
            "skiff-deploy-docker (or use --no-build to push an image you built)") from None
    return image


def build(container: str, env_manager: str | None, base_image: str | None,
          network: str | None) -> str:
    """Build the model-less serving image (SageMaker mounts the model at /opt/ml/model)."""
    image = _docker_image_module()
    with tempfile.TemporaryDirectory(prefix="skiff-sagemaker-image-") as context:
        image.generate_build_context(context, model_uri=None, env_manager=env_manager,
                                     base_image=base_image)
        image.build_image(context, container, network=network)
    return container


def ensure_repository(aws: AwsContext, name: str) -> str:
    ecr = aws.client("ecr")
    with aws_errors(f"look up ECR repository {name!r}"):
        try:
            found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
            return found["repositoryUri"]
        except Exception as exc:
            if not is_not_found(exc):
                raise
    _say(f"Creating ECR repository {name!r}")
    with aws_errors(f"create ECR repository {name!r}"):
        return ecr.create_repository(repositoryName=name)["repository"]["repositoryUri"]


def push(container: str, region_name: str | None, tag: str | None = None) -> str:
    """Tag the local image ``container`` for ECR and push it; returns the image URL."""
    from skiff.version import VERSION

    tag = tag or VERSION
    try:
        import docker
    except ImportError:
        raise SkiffException("Pushing needs the Docker SDK: pip install docker") from None
    try:  # the engine and image first, so a missing one makes nothing in AWS
        client = docker.from_env()
        local = client.images.get(container)
    except docker.errors.ImageNotFound:
        raise SkiffException(f"No local image {container!r} to push: build it first (drop "
                             "--no-build)", "RESOURCE_DOES_NOT_EXIST") from None
    except docker.errors.DockerException as exc:
        raise SkiffException(f"Cannot talk to the Docker engine: {exc}. Start Docker or set "
                             "DOCKER_HOST") from None
    aws = AwsContext(region_name)
    repository_uri = ensure_repository(aws, container)
    with aws_errors("get an ECR login token"):
        auth = aws.client("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")
    local.tag(repository_uri, tag=tag)
    _say(f"Pushing {repository_uri}:{tag}")
    for line in client.images.push(repository_uri, tag=tag, stream=True, decode=True,
                                   auth_config={"username": user, "password": password}):
        if "error" in line:
            raise SkiffException(f"Pushing to {repository_uri} failed: {line['error']}")
    return f"{repository_uri}:{tag}"
