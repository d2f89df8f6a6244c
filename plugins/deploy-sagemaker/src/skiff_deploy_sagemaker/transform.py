"""Batch transform jobs and bare SageMaker models (``skiff sagemaker`` commands)."""

from __future__ import annotations

import time

from skiff.deployments.models import local_model_dir, read_mlmodel, require_flavor
from skiff.errors import RESOURCE_ALREADY_EXISTS, SkiffException
from skiff_deploy_sagemaker.aws import AwsContext, aws_errors, is_not_found
from skiff_deploy_sagemaker.config import DeploySettings, check_endpoint_name
from skiff_deploy_sagemaker.endpoints import (
    POLL_DELAYS,
    EndpointDeployer,
    _resource_name,
    _say,
    _Undo,
)

DONE = ("Completed", "Failed", "Stopped")


def _model_dir(model_uri, flavor):
    model_dir = local_model_dir(model_uri)
    return model_dir, require_flavor(read_mlmodel(model_dir, model_uri), flavor, model_uri)


def push_model(model_name, model_uri, settings: DeploySettings, flavor=None) -> str:
    """Create a SageMaker Model (no endpoint) from ``model_uri``; returns its name."""
    check_endpoint_name(model_name)
    model_dir, flavor = _model_dir(model_uri, flavor)
    aws = AwsContext(settings.region_name, settings.assume_role_arn)
    deployer = EndpointDeployer(aws)
    with aws_errors(f"look up SageMaker model {model_name!r}"):
        try:
            aws.client("sagemaker").describe_model(ModelName=model_name)
            exists = True
        except Exception as exc:
            if not is_not_found(exc):
                raise
            exists = False
    if exists:
        raise SkiffException(f"SageMaker model {model_name!r} already exists: pick another "
                             "-n/--model-name or delete it", RESOURCE_ALREADY_EXISTS)
    undo = _Undo(aws)
    try:
        deployer._make_model(model_name, model_dir, flavor, settings, undo, model_name)
    except BaseException:
        undo.run()
        raise
    return model_name


def _describe_job(aws: AwsContext, job_name: str) -> dict | None:
    with aws_errors(f"describe transform job {job_name!r}"):
        try:
            return aws.client("sagemaker").describe_transform_job(TransformJobName=job_name)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise


def _wait_job(aws: AwsContext, job_name: str, timeout: int, want=DONE) -> dict:
    start = time.monotonic()
    last = None
    for attempt in range(1_000_000):
        job = _describe_job(aws, job_name) or {}
        status = job.get("TransformJobStatus")
        elapsed = time.monotonic() - start
        if status in want:
            _say(f"Transform job {job_name!r} is {status} ({elapsed:.1f}s)")
            return job
        if status != last:
            _say(f"Waiting for transform job {job_name!r}: {status} ({elapsed:.0f}s)")
            last = status
        if elapsed > timeout:
            raise SkiffException(f"Transform job {job_name!r} is still {status} after "
                                 f"{timeout}s: wait longer with --timeout", "DEADLINE_EXCEEDED")
        time.sleep(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)])
    raise AssertionError("unreachable")


def deploy_transform_job(job_name, model_uri, settings: DeploySettings, *, input_data_type,
                         input_uri, content_type, output_path, compression_type="None",
                         split_type="Line", accept="text/csv", assemble_with="Line",
                         input_filter="$", output_filter="$", join_resource="None",
                         flavor=None) -> dict:
    """Score ``input_uri`` in batch with the model; waits unless ``settings.synchronous`` is
    false; deletes the temporary model afterwards unless ``settings.archive``."""
    check_endpoint_name(job_name)
    model_dir, flavor = _model_dir(model_uri, flavor)
    aws = AwsContext(settings.region_name, settings.assume_role_arn)
    if _describe_job(aws, job_name) is not None:
        raise SkiffException(f"Transform job {job_name!r} already exists: pick another "
                             "-n/--job-name", RESOURCE_ALREADY_EXISTS)
    sm = aws.client("sagemaker")
    undo = _Undo(aws)
    try:
        model_name = EndpointDeployer(aws)._make_model(job_name, model_dir, flavor, settings,
                                                       undo, _resource_name(job_name, "model"))
        data_source = {"S3DataSource": {"S3DataType": input_data_type, "S3Uri": input_uri}}
        transform_input = {"DataSource": data_source, "ContentType": content_type,
                           "CompressionType": compression_type, "SplitType": split_type}
        request = {
            "TransformJobName": job_name, "ModelName": model_name,
            "TransformInput": transform_input,
            "TransformOutput": {"S3OutputPath": output_path, "Accept": accept,
                                "AssembleWith": assemble_with},
            "TransformResources": {"InstanceType": settings.instance_type,
                                   "InstanceCount": settings.instance_count},
            "DataProcessing": {"InputFilter": input_filter, "OutputFilter": output_filter,
                               "JoinSource": join_resource},
        }
        if settings.tags:
            request["Tags"] = [{"Key": k, "Value": str(v)} for k, v in settings.tags.items()]
        _say(f"Creating transform job {job_name!r} in {aws.region}")
        with aws_errors(f"create transform job {job_name!r}"):
            sm.create_transform_job(**request)
    except BaseException:
        undo.run()
        raise
    if not settings.synchronous:
        return {"name": job_name, "model_name": model_name, "status": "InProgress"}
    job = _wait_job(aws, job_name, settings.timeout_seconds)
    if not settings.archive:
        _delete_model(aws, model_name)
    if job.get("TransformJobStatus") != "Completed":
        raise SkiffException(f"Transform job {job_name!r} ended {job.get('TransformJobStatus')}"
                             f": {job.get('FailureReason', 'no reason given')}")
    return {"name": job_name, "model_name": model_name, "status": "Completed"}


def terminate_transform_job(job_name, region_name=None, archive=False, synchronous=True,
                            timeout=1200) -> None:
    aws = AwsContext(region_name)
    job = _describe_job(aws, job_name)
    if job is None:
        raise SkiffException(f"Transform job {job_name!r} does not exist in {aws.region}",
                             "RESOURCE_DOES_NOT_EXIST")
    if job.get("TransformJobStatus") not in DONE:
        with aws_errors(f"stop transform job {job_name!r}"):
            aws.client("sagemaker").stop_transform_job(TransformJobName=job_name)
    if not synchronous:
        return
    _wait_job(aws, job_name, timeout)
    if not archive:
        _delete_model(aws, job["ModelName"])


def _delete_model(aws: AwsContext, model_name: str) -> None:
    EndpointDeployer(aws).delete_models([model_name])
