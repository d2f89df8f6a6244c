"""The ``sagemaker`` deployment target: MLflow's client methods over SageMaker endpoints."""

from __future__ import annotations

import json
import subprocess

from skiff.deployments.base import BaseDeploymentClient, PredictionsResponse, scoring_payload
from skiff.deployments.models import local_model_dir, read_mlmodel, require_flavor
from skiff.errors import SkiffException
from skiff_deploy_sagemaker.config import (
    DELETE_KEYS,
    DeploySettings,
    check_endpoint_name,
    coerce,
    parse_target_uri,
)


def _jsonable(value):
    """boto3 answers hold datetimes; the CLI prints JSON."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class SageMakerDeploymentClient(BaseDeploymentClient):
    """Deployments are SageMaker endpoints named after the deployment."""

    def __init__(self, target_uri: str):
        super().__init__(target_uri)
        self.region_name, self.assume_role_arn = parse_target_uri(target_uri)

    def _aws(self, region_name=None, assume_role_arn=None):
        from skiff_deploy_sagemaker.aws import AwsContext

        return AwsContext(region_name or self.region_name,
                          assume_role_arn or self.assume_role_arn)

    def _deployer(self, settings=None):
        from skiff_deploy_sagemaker.endpoints import EndpointDeployer

        if settings is None:
            return EndpointDeployer(self._aws())
        return EndpointDeployer(self._aws(settings.region_name, settings.assume_role_arn))

    @staticmethod
    def _model(model_uri, flavor):
        model_dir = local_model_dir(model_uri)
        flavor = require_flavor(read_mlmodel(model_dir, model_uri), flavor, model_uri)
        return model_dir, flavor

    def create_deployment(self, name, model_uri, flavor=None, config=None, endpoint=None):
        check_endpoint_name(name)
        settings = DeploySettings.build(self.target_uri, config, "create")
        model_dir, flavor = self._model(model_uri, flavor)
        deployer = self._deployer(settings)
        if settings.mode != "create" and deployer.describe(name) is not None:
            return deployer.update(name, model_dir, flavor, settings)
        return deployer.create(name, model_dir, flavor, settings)

    def update_deployment(self, name, model_uri=None, flavor=None, config=None, endpoint=None):
        check_endpoint_name(name)
        settings = DeploySettings.build(self.target_uri, config, "replace")
        if settings.mode == "create":
            raise SkiffException.invalid_parameter_value(
                "update takes -C mode=replace (the default) or -C mode=add; to make a new "
                "endpoint use skiff deployments create")
        if model_uri is None:
            raise SkiffException.invalid_parameter_value(
                "Updating a SageMaker deployment needs the model: pass -m/--model-uri")
        model_dir, flavor = self._model(model_uri, flavor)
        return self._deployer(settings).update(name, model_dir, flavor, settings)

    def delete_deployment(self, name, config=None, endpoint=None):
        values = coerce(config, DELETE_KEYS)
        aws = self._aws(values.get("region_name"), values.get("assume_role_arn"))
        from skiff_deploy_sagemaker.endpoints import EndpointDeployer

        EndpointDeployer(aws).delete(name, archive=values.get("archive", False),
                                     synchronous=values.get("synchronous", True),
                                     timeout_seconds=values.get("timeout_seconds", 300))

    def list_deployments(self, endpoint=None):
        from skiff_deploy_sagemaker.aws import aws_errors

        aws = self._aws()
        found = []
        with aws_errors("list SageMaker endpoints"):
            for page in aws.client("sagemaker").get_paginator("list_endpoints").paginate():
                for item in page.get("Endpoints", []):
                    found.append({"name": item["EndpointName"], **_jsonable(item)})
        return found

    def get_deployment(self, name, endpoint=None):
        described = self._deployer().describe(name)
        if described is None:
            raise SkiffException(f"SageMaker endpoint {name!r} does not exist in "
                                 f"{self._aws().region}", "RESOURCE_DOES_NOT_EXIST")
        return {"name": name, **_jsonable(described)}

    def predict(self, deployment_name=None, inputs=None, endpoint=None):
        from skiff_deploy_sagemaker.aws import aws_errors

        name = deployment_name or endpoint
        aws = self._aws()
        with aws_errors(f"invoke SageMaker endpoint {name!r}"):
            answer = aws.client("sagemaker-runtime").invoke_endpoint(
                EndpointName=name, Body=scoring_payload(inputs), ContentType="application/json",
                Accept="application/json")
        body = answer["Body"].read().decode("utf-8")
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SkiffException(
                f"Endpoint {name!r} answered with non-JSON: {body[:200]!r}") from None
        if isinstance(parsed, dict) and "predictions" in parsed:
            return PredictionsResponse(parsed)
        return PredictionsResponse({"predictions": parsed})

    def explain(self, deployment_name=None, df=None, endpoint=None):
        raise SkiffException(
            "The sagemaker target does not support explain(): SageMaker Clarify is not wired "
            "in; use predict", "NOT_IMPLEMENTED")


def run_local(target, name, model_uri, flavor=None, config=None):
    """Serve the model in the SageMaker image on this machine (docker run, port 8080 inside)."""
    config = dict(config or {})
    image = config.get("image", "skiff-pyfunc")
    port = int(config.get("port", 5000))
    model_dir = local_model_dir(model_uri)
    flavor = require_flavor(read_mlmodel(model_dir, model_uri), flavor, model_uri)
    command = ["docker", "run", "--rm", "--name", name, "-p", f"{port}:8080",
               "-v", f"{model_dir}:/opt/ml/model:ro",
               "-e", f"SKIFF_DEPLOYMENT_FLAVOR_NAME={flavor}",
               "-e", f"MLFLOW_DEPLOYMENT_FLAVOR_NAME={flavor}", image, "serve"]
    print(" ".join(command), flush=True)
    try:
        subprocess.run(command, check=True)
    except FileNotFoundError:
        raise SkiffException("run-local needs Docker: install it and start the engine") from None
    except subprocess.CalledProcessError as exc:
        raise SkiffException(f"docker run exited with {exc.returncode}") from None


def target_help() -> str:
    return """\
Target URI: sagemaker, sagemaker:/<region> or sagemaker:/<region>/<assume_role_arn>.
Deploys a model's python_function flavor to a SageMaker real-time endpoint named --name.

Config (-C name=value) for create and update:
  region_name            AWS region (else from the URI, else AWS_DEFAULT_REGION)
  assume_role_arn        role to assume before calling AWS (else from the URI)
  execution_role_arn     role SageMaker runs the model with (default: the caller's role)
  bucket                 S3 bucket for model.tar.gz (default skiff-sagemaker-<region>-<account>,
                         created on first use; a bucket you name must exist)
  image_url              serving image (default <account>.dkr.ecr.<region>.amazonaws.com/
                         skiff-pyfunc:<version>, or SKIFF_SAGEMAKER_DEPLOY_IMG_URL; push one
                         with `skiff sagemaker build-and-push-container`)
  instance_type          default ml.m4.xlarge        instance_count   default 1
  variant_name           production variant name (default: the model's name)
  vpc_config             JSON {"SecurityGroupIds": [...], "Subnets": [...]}
  data_capture_config    JSON, SageMaker's DataCaptureConfig
  async_inference_config JSON, SageMaker's AsyncInferenceConfig
  serverless_config      JSON {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
  env                    JSON of environment variables for the container
  tags                   JSON of tags for the model, config and endpoint
  synchronous            wait until InService (default true); false returns at once
  timeout_seconds        how long to wait (default 1200)
  archive                keep replaced models and configs (default false)
  mode                   create (default for create), replace (default for update), add

Delete config: region_name, assume_role_arn, archive, synchronous, timeout_seconds (300).
run-local config: image (default skiff-pyfunc), port (default 5000).

Example:
  skiff deployments create -t sagemaker:/us-east-1 --name my-endpoint \\
      -m models:/my-model@champion \\
      -C execution_role_arn=arn:aws:iam::123456789012:role/sagemaker -C instance_count=2
"""
