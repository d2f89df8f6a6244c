"""The sagemaker target against moto's server: create/replace/add/delete, predict, bad input
and cleanup after forced failures."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
import requests
from click.testing import CliRunner
from sagemaker_test_env import REGION, ROLE

from skiff.deployments import get_deploy_client
from skiff.errors import SkiffException

TARGET = f"sagemaker:/{REGION}"
BASE = {"execution_role_arn": ROLE, "bucket": "models", "image_url": "1.dkr.ecr/img:1"}


def _inventory(session):
    sm = session.client("sagemaker")
    s3_keys = []
    for bucket in session.client("s3").list_buckets()["Buckets"]:
        listed = session.client("s3").list_objects_v2(Bucket=bucket["Name"])
        s3_keys += [f"{bucket['Name']}/{o['Key']}" for o in listed.get("Contents", [])]
    return {
        "endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
        "configs": [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]],
        "models": [m["ModelName"] for m in sm.list_models()["Models"]],
        "s3": s3_keys,
    }


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args))


def test_create_via_cli_packages_model_and_makes_endpoint(aws, model_dir):
    result = _cli("deployments", "create", "-t", TARGET, "--name", "churn", "-m", str(model_dir),
                  "-C", f"execution_role_arn={ROLE}", "-C", "bucket=models",
                  "-C", "image_url=1.dkr.ecr/img:1", "-C", "instance_type=ml.m5.large",
                  "-C", "instance_count=2", "-C", 'env={"GUNICORN_CMD_ARGS": "-w 2"}',
                  "-C", 'tags={"team": "risk"}', "-C", "variant_name=primary",
                  "-C", 'data_capture_config={"EnableCapture": true, "InitialSamplingPercentage":'
                        ' 50, "DestinationS3Uri": "s3://models/capture", "CaptureOptions": '
                        '[{"CaptureMode": "Input"}]}',
                  "-C", 'vpc_config={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}')
    assert result.exit_code == 0, result.output
    assert "python_function deployment 'churn' is created" in result.output
    assert "InService" in result.output  # progress lines (stderr is mixed in)

    sm = aws.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName="churn")
    assert endpoint["EndpointStatus"] == "InService"
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variant = config["ProductionVariants"][0]
    assert (variant["VariantName"], variant["InstanceType"], variant["InitialInstanceCount"]) == (
        "primary", "ml.m5.large", 2)
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 50
    model = sm.describe_model(ModelName=variant["ModelName"])
    container = model["PrimaryContainer"]
    assert container["Image"] == "1.dkr.ecr/img:1"
    assert container["Environment"]["GUNICORN_CMD_ARGS"] == "-w 2"
    assert container["Environment"]["MLFLOW_DEPLOYMENT_FLAVOR_NAME"] == "python_function"
    assert model["ExecutionRoleArn"] == ROLE
    assert model["VpcConfig"]["Subnets"] == ["subnet-1"]
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=model["ModelArn"])["Tags"]}
    assert tags["team"] == "risk"

    # The archive holds the model directory's files at its top (SageMaker: /opt/ml/model).
    bucket, key = container["ModelDataUrl"][len("s3://"):].split("/", 1)
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert {"MLmodel", "python_model.pkl", "requirements.txt"} <= set(tar.getnames())

    listed = json.loads(_cli("deployments", "list", "-t", TARGET).stdout)
    assert [d["name"] for d in listed] == ["churn"]
    got = json.loads(_cli("deployments", "get", "-t", TARGET, "--name", "churn").stdout)
    assert got["EndpointStatus"] == "InService"


def test_create_in_create_mode_refuses_a_taken_name(aws, model_dir):
    client = get_deploy_client(TARGET)
    client.create_deployment("taken", str(model_dir), config=BASE)
    before = _inventory(aws)
    result = _cli("deployments", "create", "-t", TARGET, "--name", "taken", "-m", str(model_dir),
                  "-C", f"execution_role_arn={ROLE}")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "already exists" in result.output
    assert "update" in result.output
    assert _inventory(aws) == before


def test_replace_add_and_delete_clean_up_what_they_made(aws, model_dir):
    client = get_deploy_client(TARGET)
    client.create_deployment("svc", str(model_dir), config=BASE)
    first = _inventory(aws)
    assert len(first["models"]) == len(first["configs"]) == len(first["s3"]) == 1

    client.update_deployment("svc", str(model_dir), config={**BASE, "variant_name": "v2"})
    after_replace = _inventory(aws)
    assert len(after_replace["models"]) == len(after_replace["configs"]) == 1
    assert set(after_replace["models"]).isdisjoint(first["models"])
    assert set(after_replace["s3"]).isdisjoint(first["s3"])

    client.update_deployment("svc", str(model_dir),
                             config={**BASE, "mode": "add", "variant_name": "v3"})
    sm = aws.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName="svc")
    names = [v["VariantName"] for v in endpoint["ProductionVariants"]]
    assert names == ["v2", "v3"]
    assert len(_inventory(aws)["models"]) == 2 and len(_inventory(aws)["configs"]) == 1

    with pytest.raises(SkiffException, match="already has a variant 'v3'"):
        client.update_deployment("svc", str(model_dir),
                                 config={**BASE, "mode": "add", "variant_name": "v3"})

    client.update_deployment("svc", str(model_dir),
                             config={**BASE, "variant_name": "v4", "archive": "true"})
    assert len(_inventory(aws)["configs"]) == 2  # archive keeps the replaced config

    client.delete_deployment("svc")
    left = _inventory(aws)
    # What stays is what archive=true kept: the add-mode config and its two models.
    assert left["endpoints"] == [] and len(left["configs"]) == 1
    assert len(left["models"]) == len(left["s3"]) == 2
    client.delete_deployment("svc")  # deleting twice is fine


def test_delete_removes_endpoint_config_model_and_archive(aws, model_dir):
    client = get_deploy_client(TARGET)
    client.create_deployment("gone", str(model_dir), config=BASE)
    _cli("deployments", "delete", "-t", TARGET, "--name", "gone")
    assert _inventory(aws) == {"endpoints": [], "configs": [], "models": [], "s3": []}


def test_failed_create_leaves_nothing_behind(aws, model_dir):
    client = get_deploy_client(TARGET)
    # The endpoint goes to Failed (the test server's switch for a container that won't start).
    with pytest.raises(SkiffException, match="failed: container exited"):
        client.create_deployment("broken", str(model_dir),
                                 config={**BASE, "tags": {"skiff-test-fail": "container exited"}})
    assert _inventory(aws) == {"endpoints": [], "configs": [], "models": [], "s3": []}
    # SageMaker refuses the endpoint config: the uploaded archive and the model go again.
    result = _cli("deployments", "create", "-t", TARGET, "--name", "broken", "-m", str(model_dir),
                  "-C", f"execution_role_arn={ROLE}", "-C", "bucket=models",
                  "-C", "instance_type=ml.nonsense.huge")
    assert result.exit_code == 1 and "instanceType" in result.output
    assert _inventory(aws) == {"endpoints": [], "configs": [], "models": [], "s3": []}


def test_default_bucket_is_created_and_default_image_uses_the_account(aws, model_dir):
    client = get_deploy_client(TARGET)
    client.create_deployment("defaults", str(model_dir), config={"execution_role_arn": ROLE})
    buckets = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert f"skiff-sagemaker-{REGION}-123456789012" in buckets
    sm = aws.client("sagemaker")
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName="defaults")["EndpointConfigName"])
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["PrimaryContainer"]["Image"].startswith(
        f"123456789012.dkr.ecr.{REGION}.amazonaws.com/skiff-pyfunc:")


def test_predict_through_sagemaker_runtime(aws, moto_url, model_dir, tmp_path):
    client = get_deploy_client(TARGET)
    client.create_deployment("scorer", str(model_dir), config=BASE)
    requests.post(f"{moto_url}/moto-api/static/sagemaker/endpoint-results", timeout=10, json={
        "region": REGION, "results": [{"Body": json.dumps({"predictions": [0.5, 1.5]}),
                                       "ContentType": "application/json",
                                       "InvokedProductionVariant": "v",
                                       "CustomAttributes": ""}]})
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1], [2]]}}))
    result = _cli("deployments", "predict", "-t", TARGET, "--name", "scorer", "-I", str(inputs))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"predictions": [0.5, 1.5]}


@pytest.mark.parametrize("config, env, message", [
    ({"execution_role_arn": ROLE}, {}, "No AWS region given"),
    ({"bucket": "b"}, {"AWS_DEFAULT_REGION": REGION}, "not a role: pass -C execution_role_arn"),
    ({"execution_role_arn": ROLE, "bucket": "missing-bucket"}, {"AWS_DEFAULT_REGION": REGION},
     "S3 bucket 'missing-bucket' does not exist"),
    ({"execution_role_arn": "arn:aws:iam::1:user/x"}, {"AWS_DEFAULT_REGION": REGION},
     "is not an IAM role ARN"),
    ({"instance_count": "two"}, {"AWS_DEFAULT_REGION": REGION}, "is not an integer"),
    ({"async": "true"}, {"AWS_DEFAULT_REGION": REGION}, "use -C synchronous=false"),
    ({"colour": "red"}, {"AWS_DEFAULT_REGION": REGION}, "Unknown sagemaker config 'colour'"),
])
def test_bad_input_is_one_line_naming_the_fix(aws, model_dir, monkeypatch, config, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = ["deployments", "create", "-t", "sagemaker", "--name", "bad", "-m", str(model_dir)]
    for key, value in config.items():
        args += ["-C", f"{key}={value}"]
    result = _cli(*args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert message in result.output
    assert _inventory(aws)["models"] == []


def test_model_without_pyfunc_flavor_is_refused_before_any_aws_call(aws, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: m.pkl\n")
    result = _cli("deployments", "create", "-t", TARGET, "--name", "nope", "-m", str(bare),
                  "-C", f"execution_role_arn={ROLE}")
    assert result.exit_code == 1 and "has no python_function flavor" in result.output
    assert result.output.count("\n") == 1


def test_unreachable_aws_endpoint_is_one_line(aws, model_dir, monkeypatch):
    from skiff.testing.servers import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = _cli("deployments", "create", "-t", TARGET, "--name", "far", "-m", str(model_dir),
                  "-C", f"execution_role_arn={ROLE}")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "Cannot reach AWS" in result.output and "AWS_ENDPOINT_URL" in result.output


def test_help_describes_config_keys():
    result = _cli("deployments", "help", "-t", "sagemaker")
    for key in ("execution_role_arn", "bucket", "image_url", "instance_type", "vpc_config",
                "data_capture_config", "variant_name", "synchronous", "timeout_seconds",
                "env", "tags", "mode"):
        assert key in result.output
