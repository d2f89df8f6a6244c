"""The model as SageMaker wants it: a ``model.tar.gz`` of the model directory in S3
(SageMaker unpacks it to ``/opt/ml/model`` in the serving container)."""

from __future__ import annotations

import os
import tarfile
import tempfile

from skiff.errors import SkiffException
from skiff_deploy_sagemaker.aws import AwsContext, aws_errors, error_code, is_not_found


def default_bucket(aws: AwsContext) -> str:
    return f"skiff-sagemaker-{aws.region}-{aws.account_id}"


def ensure_bucket(aws: AwsContext, bucket: str | None) -> str:
    """The bucket to upload to. A bucket the user named must exist; the default one is
    created on first use."""
    s3 = aws.client("s3")
    chosen = bucket or default_bucket(aws)
    with aws_errors(f"check S3 bucket {chosen!r}"):
        try:
            s3.head_bucket(Bucket=chosen)
            return chosen
        except Exception as exc:  # botocore's ClientError; 404 means it does not exist
            if not (is_not_found(exc) or error_code(exc) == "404"):
                raise
    if bucket:
        raise SkiffException.invalid_parameter_value(
            f"S3 bucket {bucket!r} does not exist: create it (aws s3 mb s3://{bucket}), or omit "
            f"-C bucket to use {default_bucket(aws)!r}")
    with aws_errors(f"create S3 bucket {chosen!r}"):
        if aws.region == "us-east-1":
            s3.create_bucket(Bucket=chosen)
        else:
            s3.create_bucket(Bucket=chosen, CreateBucketConfiguration={
                "LocationConstraint": aws.region})
    return chosen


def _tar_model(model_dir: str, out_path: str) -> None:
    # Fast compression: model files are often already compressed, and speed matters more.
    with tarfile.open(out_path, "w:gz", compresslevel=1) as tar:
        for entry in sorted(os.listdir(model_dir)):
            tar.add(os.path.join(model_dir, entry), arcname=entry)


def upload_model(aws: AwsContext, model_dir: str, bucket: str, prefix: str) -> str:
    """Upload ``model_dir`` as ``s3://bucket/<prefix>/model.tar.gz``; returns that URL."""
    key = f"{prefix}/model.tar.gz"
    with tempfile.TemporaryDirectory(prefix="skiff-sagemaker-") as tmp:
        archive = os.path.join(tmp, "model.tar.gz")
        _tar_model(model_dir, archive)
        with aws_errors(f"upload the model to s3://{bucket}/{key}"):
            aws.client("s3").upload_file(archive, bucket, key)
    return f"s3://{bucket}/{key}"


def delete_model_data(aws: AwsContext, model_data_url: str | None) -> None:
    """Remove an uploaded model archive (best effort: cleanup must not mask the real error)."""
    if not model_data_url or not model_data_url.startswith("s3://"):
        return
    bucket, _, key = model_data_url[len("s3://"):].partition("/")
    try:
        aws.client("s3").delete_object(Bucket=bucket, Key=key)
    except Exception:  # noqa: BLE001 - best effort
        pass
