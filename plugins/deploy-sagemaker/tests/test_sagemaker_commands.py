"""`skiff sagemaker` commands against moto: push-model, transform jobs, the ECR half of
build-and-push-container."""

from __future__ import annotations

from click.testing import CliRunner
from sagemaker_test_env import REGION, ROLE


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args))


def test_push_model_creates_a_model_and_refuses_a_taken_name(aws, model_dir):
    args = ["sagemaker", "push-model", "-n", "pushed", "-m", str(model_dir), "-e", ROLE,
            "-b", "models", "-i", "1.dkr.ecr/img:1", "--region-name", REGION]
    result = _cli(*args)
    assert result.exit_code == 0, result.output
    model = aws.client("sagemaker").describe_model(ModelName="pushed")
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://models/pushed/model.tar.gz"
    result = _cli(*args)
    assert result.exit_code == 1 and "already exists" in result.output


def test_transform_job_runs_and_cleans_up_its_model(aws, model_dir):
    result = _cli("sagemaker", "deploy-transform-job", "-n", "batch1", "-m", str(model_dir),
                  "--input-data-type", "S3Prefix", "-u", "s3://models/in/",
                  "--content-type", "text/csv", "-o", "s3://models/out/", "-e", ROLE,
                  "-b", "models", "-i", "1.dkr.ecr/img:1", "--region-name", REGION)
    assert result.exit_code == 0, result.output
    assert "Completed" in result.output
    sm = aws.client("sagemaker")
    job = sm.describe_transform_job(TransformJobName="batch1")
    assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://models/in/"
    assert sm.list_models()["Models"] == []  # not archived: the job's model is gone


def test_async_transform_job_then_terminate(aws, model_dir):
    result = _cli("sagemaker", "deploy-transform-job", "-n", "batch2", "-m", str(model_dir),
                  "--input-data-type", "S3Prefix", "-u", "s3://models/in/",
                  "--content-type", "text/csv", "-o", "s3://models/out/", "-e", ROLE,
                  "-b", "models", "-i", "1.dkr.ecr/img:1", "--region-name", REGION, "--async")
    assert result.exit_code == 0, result.output
    assert len(aws.client("sagemaker").list_models()["Models"]) == 1
    result = _cli("sagemaker", "terminate-transform-job", "-n", "batch2", "-r", REGION)
    assert result.exit_code == 0, result.output
    assert aws.client("sagemaker").list_models()["Models"] == []
    result = _cli("sagemaker", "terminate-transform-job", "-n", "nosuch", "-r", REGION)
    assert result.exit_code == 1 and "does not exist" in result.output


def test_push_container_needs_docker_before_touching_aws(aws, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    result = _cli("sagemaker", "build-and-push-container", "--no-build", "-c", "skiff-pyfunc",
                  "--region-name", REGION)
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "Cannot talk to the Docker engine" in result.output
    assert aws.client("ecr").describe_repositories()["repositories"] == []


def test_ecr_repository_is_created_once(aws):
    from skiff_deploy_sagemaker.aws import AwsContext
    from skiff_deploy_sagemaker.container import ensure_repository

    context = AwsContext(REGION)
    first = ensure_repository(context, "skiff-pyfunc")
    assert first == ensure_repository(context, "skiff-pyfunc")
    assert first.endswith(f".dkr.ecr.{REGION}.amazonaws.com/skiff-pyfunc")
