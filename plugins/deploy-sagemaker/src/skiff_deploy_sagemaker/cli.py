"""``skiff sagemaker``: serving image, bare models and batch transform jobs on SageMaker."""

from __future__ import annotations

import json

import click


def _settings(**values):
    from skiff_deploy_sagemaker.config import DeploySettings

    values = {k: v for k, v in values.items() if v is not None}
    settings = DeploySettings(**values)
    settings.check()
    return settings


def _vpc(path):
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@click.group("sagemaker")
def sagemaker():
    """Serve models on Amazon SageMaker (endpoints: skiff deployments -t sagemaker)."""


@sagemaker.command("build-and-push-container")
@click.option("--build/--no-build", default=True, show_default=True,
              help="Build the serving image.")
@click.option("--push/--no-push", default=True, show_default=True, help="Push it to ECR.")
@click.option("--container", "-c", default="skiff-pyfunc", show_default=True,
              help="Image (and ECR repository) name.")
@click.option("--network", default=None, help="Docker network for the build (e.g. host).")
@click.option("--env-manager", default=None,
              type=click.Choice(["local", "virtualenv", "uv", "conda"]),
              help="How the image creates the model's environment.")
@click.option("--base-image", default=None, help="Base image (default python:3.x-slim).")
@click.option("--region-name", default=None, help="AWS region of the ECR registry.")
def build_and_push_container(build, push, container, network, env_manager, base_image,
                             region_name):
    """Build the SageMaker serving image and push it to ECR."""
    from skiff_deploy_sagemaker import container as images

    if build:
        images.build(container, env_manager, base_image, network)
        click.echo(f"Built image {container}")
    if push:
        click.echo(f"Pushed {images.push(container, region_name)}")


_model_options = [
    click.option("--execution-role-arn", "-e", default=None,
                 help="Role SageMaker runs the model with."),
    click.option("--bucket", "-b", default=None, help="S3 bucket for the model archive."),
    click.option("--image-url", "-i", default=None, help="Serving image URL in ECR."),
    click.option("--region-name", default=None, help="AWS region (else AWS_DEFAULT_REGION)."),
    click.option("--vpc-config", "-v", default=None, type=click.Path(exists=True),
                 help="JSON file with SecurityGroupIds and Subnets."),
    click.option("--flavor", "-f", default=None, help="Flavor to serve (python_function)."),
]


def _with(options):
    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return decorate


@sagemaker.command("push-model")
@click.option("--model-name", "-n", required=True, help="Name of the SageMaker model.")
@click.option("--model-uri", "-m", required=True, help="Model URI.")
@_with(_model_options)
def push_model(model_name, model_uri, execution_role_arn, bucket, image_url, region_name,
               vpc_config, flavor):
    """Create a SageMaker model (no endpoint) from a Skiff/MLflow model."""
    from skiff_deploy_sagemaker.transform import push_model as push

    settings = _settings(execution_role_arn=execution_role_arn, bucket=bucket,
                         image_url=image_url, region_name=region_name,
                         vpc_config=_vpc(vpc_config))
    click.echo(f"Created SageMaker model {push(model_name, model_uri, settings, flavor)!r}")


@sagemaker.command("deploy-transform-job")
@click.option("--job-name", "-n", required=True, help="Transform job name.")
@click.option("--model-uri", "-m", required=True, help="Model URI.")
@click.option("--input-data-type", required=True,
              type=click.Choice(["ManifestFile", "S3Prefix", "AugmentedManifestFile"]),
              help="What --input-uri points at.")
@click.option("--input-uri", "-u", required=True, help="S3 URI of the input data.")
@click.option("--content-type", required=True, help="MIME type of the input data.")
@click.option("--output-path", "-o", required=True, help="S3 URI for the results.")
@click.option("--compression-type", default="None", show_default=True)
@click.option("--split-type", "-s", default="Line", show_default=True)
@click.option("--accept", "-a", default="text/csv", show_default=True)
@click.option("--assemble-with", default="Line", show_default=True)
@click.option("--input-filter", default="$", show_default=True)
@click.option("--output-filter", default="$", show_default=True)
@click.option("--join-resource", "-j", default="None", show_default=True)
@_with(_model_options)
@click.option("--instance-type", "-t", default="ml.m4.xlarge", show_default=True)
@click.option("--instance-count", "-c", default=1, show_default=True, type=int)
@click.option("--archive", is_flag=True, help="Keep the job's SageMaker model afterwards.")
@click.option("--async", "asynchronous", is_flag=True, help="Return without waiting.")
@click.option("--timeout", default=1200, show_default=True, type=int,
              help="Seconds to wait for the job.")
def deploy_transform_job(job_name, model_uri, input_data_type, input_uri, content_type,
                         output_path, compression_type, split_type, accept, assemble_with,
                         input_filter, output_filter, join_resource, execution_role_arn,
                         bucket, image_url, region_name, vpc_config, flavor, instance_type,
                         instance_count, archive, asynchronous, timeout):
    """Score data in S3 with a model as a SageMaker batch transform job."""
    from skiff_deploy_sagemaker.transform import deploy_transform_job as deploy

    settings = _settings(execution_role_arn=execution_role_arn, bucket=bucket,
                         image_url=image_url, region_name=region_name,
                         vpc_config=_vpc(vpc_config), instance_type=instance_type,
                         instance_count=instance_count, archive=archive,
                         synchronous=not asynchronous, timeout_seconds=timeout)
    result = deploy(job_name, model_uri, settings, input_data_type=input_data_type,
                    input_uri=input_uri, content_type=content_type, output_path=output_path,
                    compression_type=compression_type, split_type=split_type, accept=accept,
                    assemble_with=assemble_with, input_filter=input_filter,
                    output_filter=output_filter, join_resource=join_resource, flavor=flavor)
    click.echo(f"Transform job {job_name!r}: {result['status']}")


@sagemaker.command("terminate-transform-job")
@click.option("--job-name", "-n", required=True, help="Transform job name.")
@click.option("--region-name", "-r", default=None, help="AWS region.")
@click.option("--archive", is_flag=True, help="Keep the job's SageMaker model.")
@click.option("--async", "asynchronous", is_flag=True, help="Return without waiting.")
@click.option("--timeout", default=1200, show_default=True, type=int)
def terminate_transform_job(job_name, region_name, archive, asynchronous, timeout):
    """Stop a transform job (and delete its model unless --archive)."""
    from skiff_deploy_sagemaker.transform import terminate_transform_job as terminate

    terminate(job_name, region_name, archive=archive, synchronous=not asynchronous,
              timeout=timeout)
    click.echo(f"Transform job {job_name!r} is terminated")
