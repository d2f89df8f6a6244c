"""Endpoints: create, replace/add a model, delete; wait with progress; undo a failed create.

Each change makes a new SageMaker Model and EndpointConfig (SageMaker configs are
immutable). Whatever a failed call made is deleted again, newest first, so a failure leaves
no half-made resources behind.
"""

from __future__ import annotations

import secrets
import sys
import time

from skiff.env import get_env
from skiff.errors import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, SkiffException
from skiff_deploy_sagemaker import packaging
from skiff_deploy_sagemaker.aws import AwsContext, aws_errors, is_not_found
from skiff_deploy_sagemaker.config import DEFAULT_IMAGE_NAME, DeploySettings

OWNER_TAG = "skiff.deployment"
POLL_DELAYS = (0.0, 0.2, 0.5, 1.0, 2.0, 5.0)  # first checks quickly, then every 5 s


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _resource_name(name: str, kind: str) -> str:
    suffix = secrets.token_hex(6)
    return f"{name[:63 - len(kind) - len(suffix) - 2]}-{kind}-{suffix}"


def default_image_url(aws: AwsContext) -> str:
    from skiff.version import VERSION

    configured = get_env("SAGEMAKER_DEPLOY_IMG_URL")
    if configured:
        return configured
    return (f"{aws.account_id}.dkr.ecr.{aws.region}.amazonaws.com/"
            f"{DEFAULT_IMAGE_NAME}:{VERSION}")


class _Undo:
    """Remembers what a deployment made, to delete it (newest first) if a later step fails."""

    def __init__(self, aws: AwsContext):
        self.aws = aws
        self.made: list[tuple[str, str]] = []

    def add(self, kind: str, name: str) -> None:
        self.made.append((kind, name))

    def run(self) -> None:
        sm = self.aws.client("sagemaker")
        for kind, name in reversed(self.made):
            try:  # best effort: the original error is the one to report
                if kind == "endpoint":
                    sm.delete_endpoint(EndpointName=name)
                elif kind == "config":
                    sm.delete_endpoint_config(EndpointConfigName=name)
                elif kind == "model":
                    sm.delete_model(ModelName=name)
                elif kind == "s3":
                    packaging.delete_model_data(self.aws, name)
            except Exception:  # noqa: BLE001
                pass
        self.made.clear()


class EndpointDeployer:
    def __init__(self, aws: AwsContext):
        self.aws = aws
        self.sm = aws.client("sagemaker")

    # -- lookups -------------------------------------------------------------------------------
    def describe(self, name: str) -> dict | None:
        with aws_errors(f"describe SageMaker endpoint {name!r}"):
            try:
                return self.sm.describe_endpoint(EndpointName=name)
            except Exception as exc:
                if is_not_found(exc):
                    return None
                raise

    def _variants(self, config_name: str) -> list[dict]:
        with aws_errors(f"describe endpoint config {config_name!r}"):
            return self.sm.describe_endpoint_config(
                EndpointConfigName=config_name)["ProductionVariants"]

    # -- pieces ----------------------------------------------------------------------------------
    def _tags(self, settings: DeploySettings, name: str) -> list[dict]:
        tags = {**{k: str(v) for k, v in settings.tags.items()}, OWNER_TAG: name}
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def _make_model(self, name, model_dir, flavor, settings, undo: _Undo,
                    model_name: str | None = None) -> str:
        role = settings.execution_role_arn or self.aws.default_execution_role()
        image = settings.image_url or default_image_url(self.aws)
        bucket = packaging.ensure_bucket(self.aws, settings.bucket)
        model_name = model_name or _resource_name(name, "model")
        _say(f"Uploading the model to s3://{bucket}/{model_name}/model.tar.gz")
        data_url = packaging.upload_model(self.aws, model_dir, bucket, model_name)
        undo.add("s3", data_url)
        environment = {"SKIFF_DEPLOYMENT_FLAVOR_NAME": flavor,
                       "MLFLOW_DEPLOYMENT_FLAVOR_NAME": flavor,
                       "SERVING_ENVIRONMENT": "SageMaker",
                       **{k: str(v) for k, v in settings.env.items()}}
        request = {"ModelName": model_name, "ExecutionRoleArn": role,
                   "PrimaryContainer": {"Image": image, "ModelDataUrl": data_url,
                                        "Environment": environment},
                   "Tags": self._tags(settings, name)}
        if settings.vpc_config:
            request["VpcConfig"] = settings.vpc_config
        with aws_errors(f"create SageMaker model {model_name!r}"):
            self.sm.create_model(**request)
        undo.add("model", model_name)
        return model_name

    def _variant(self, model_name: str, settings: DeploySettings) -> dict:
        variant = {"VariantName": settings.variant_name or model_name, "ModelName": model_name,
                   "InitialVariantWeight": 1.0}
        if settings.serverless_config:
            variant["ServerlessConfig"] = settings.serverless_config
        else:
            variant["InstanceType"] = settings.instance_type
            variant["InitialInstanceCount"] = settings.instance_count
        return variant

    def _make_config(self, name, variants, settings, undo: _Undo, data_capture=None) -> str:
        config_name = _resource_name(name, "config")
        request = {"EndpointConfigName": config_name, "ProductionVariants": variants,
                   "Tags": self._tags(settings, name)}
        if settings.data_capture_config or data_capture:
            request["DataCaptureConfig"] = settings.data_capture_config or data_capture
        if settings.async_inference_config:
            request["AsyncInferenceConfig"] = settings.async_inference_config
        with aws_errors(f"create endpoint config {config_name!r}"):
            self.sm.create_endpoint_config(**request)
        undo.add("config", config_name)
        return config_name

    # -- operations ------------------------------------------------------------------------------
    def create(self, name, model_dir, flavor, settings: DeploySettings) -> dict:
        if self.describe(name) is not None:
            raise SkiffException(
                f"SageMaker endpoint {name!r} already exists in {self.aws.region}: update it "
                "(skiff deployments update, or -C mode=replace / mode=add), delete it, or pick "
                "another --name", RESOURCE_ALREADY_EXISTS)
        undo = _Undo(self.aws)
        try:
            model_name = self._make_model(name, model_dir, flavor, settings, undo)
            config_name = self._make_config(
                name, [self._variant(model_name, settings)], settings, undo)
            _say(f"Creating SageMaker endpoint {name!r} in {self.aws.region}")
            with aws_errors(f"create SageMaker endpoint {name!r}"):
                self.sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name,
                                        Tags=self._tags(settings, name))
            undo.add("endpoint", name)
            if settings.synchronous:
                self.wait(name, settings.timeout_seconds, config_name)
        except BaseException:
            undo.run()
            raise
        return {"name": name, "flavor": flavor, "model_name": model_name,
                "endpoint_config_name": config_name, "region_name": self.aws.region}

    def update(self, name, model_dir, flavor, settings: DeploySettings) -> dict:
        current = self.describe(name)
        if current is None:
            raise SkiffException(
                f"SageMaker endpoint {name!r} does not exist in {self.aws.region}: create it "
                "with skiff deployments create", RESOURCE_DOES_NOT_EXIST)
        old_config = current["EndpointConfigName"]
        with aws_errors(f"describe endpoint config {old_config!r}"):
            old = self.sm.describe_endpoint_config(EndpointConfigName=old_config)
        old_variants = old["ProductionVariants"]
        if settings.mode == "add" and settings.variant_name in {
                v["VariantName"] for v in old_variants}:
            raise SkiffException.invalid_parameter_value(
                f"Endpoint {name!r} already has a variant {settings.variant_name!r}: pick "
                "another -C variant_name")
        undo = _Undo(self.aws)
        try:
            model_name = self._make_model(name, model_dir, flavor, settings, undo)
            variants = [self._variant(model_name, settings)]
            if settings.mode == "add":
                variants = [_variant_request(v) for v in old_variants] + variants
            config_name = self._make_config(name, variants, settings, undo,
                                            old.get("DataCaptureConfig"))
            _say(f"Updating SageMaker endpoint {name!r} ({settings.mode} mode)")
            with aws_errors(f"update SageMaker endpoint {name!r}"):
                self.sm.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
            if settings.synchronous:
                self.wait(name, settings.timeout_seconds, config_name)
        except BaseException:
            undo.run()
            raise
        if settings.synchronous and not settings.archive:
            # The endpoint no longer uses the old config (nor, when replacing, its models).
            gone = [v["ModelName"] for v in old_variants] if settings.mode == "replace" else []
            self._delete_resources(old_config, gone)
        elif not settings.synchronous:
            _say(f"Not waiting: the old endpoint config {old_config!r} is left in place")
        return {"name": name, "flavor": flavor, "model_name": model_name,
                "endpoint_config_name": config_name, "region_name": self.aws.region,
                "mode": settings.mode}

    def delete(self, name: str, archive=False, synchronous=True, timeout_seconds=300) -> None:
        current = self.describe(name)
        if current is None:
            return  # deleting twice is not an error
        if not synchronous and not archive:
            raise SkiffException.invalid_parameter_value(
                "Deleting without waiting cannot clean up the model and config: pass "
                "-C archive=true with -C synchronous=false, or wait (synchronous=true)")
        config_name = current["EndpointConfigName"]
        models = [v["ModelName"] for v in self._variants(config_name)]
        _say(f"Deleting SageMaker endpoint {name!r}")
        with aws_errors(f"delete SageMaker endpoint {name!r}"):
            self.sm.delete_endpoint(EndpointName=name)
        if not synchronous:
            return
        self._wait_gone(name, timeout_seconds)
        if not archive:
            self._delete_resources(config_name, models)

    def _delete_resources(self, config_name: str, models: list[str]) -> None:
        with aws_errors(f"delete endpoint config {config_name!r}"):
            try:
                self.sm.delete_endpoint_config(EndpointConfigName=config_name)
            except Exception as exc:
                if not is_not_found(exc):
                    raise
        self.delete_models(models)

    def delete_models(self, models: list[str]) -> None:
        for model in models:
            data_url = self._owned_model_data(model)
            with aws_errors(f"delete SageMaker model {model!r}"):
                try:
                    self.sm.delete_model(ModelName=model)
                except Exception as exc:
                    if not is_not_found(exc):
                        raise
            packaging.delete_model_data(self.aws, data_url)

    def _owned_model_data(self, model: str) -> str | None:
        """The model's S3 archive if Skiff uploaded it (tagged), else None (keep it)."""
        try:
            described = self.sm.describe_model(ModelName=model)
            tags = self.sm.list_tags(ResourceArn=described["ModelArn"]).get("Tags", [])
        except Exception:  # noqa: BLE001 - a model we cannot inspect keeps its data
            return None
        if not any(t.get("Key") == OWNER_TAG for t in tags):
            return None
        return (described.get("PrimaryContainer") or {}).get("ModelDataUrl")

    # -- waiting ---------------------------------------------------------------------------------
    def wait(self, name: str, timeout: int, config_name: str | None = None) -> dict:
        start = time.monotonic()
        last_status = None
        for attempt in range(1_000_000):
            described = self.describe(name)
            if described is None:
                raise SkiffException(f"SageMaker endpoint {name!r} disappeared while waiting",
                                     RESOURCE_DOES_NOT_EXIST)
            status = described.get("EndpointStatus")
            elapsed = time.monotonic() - start
            on_config = config_name is None or described.get("EndpointConfigName") == config_name
            if status == "InService" and on_config:
                _say(f"Endpoint {name!r} is InService ({elapsed:.1f}s)")
                return described
            reason = described.get("FailureReason")
            if status == "Failed" or (status == "InService" and reason):
                raise SkiffException(
                    f"SageMaker endpoint {name!r} failed: {reason or status}. Check the "
                    "container logs in CloudWatch (/aws/sagemaker/Endpoints/" + name + ")")
            if status != last_status:
                _say(f"Waiting for endpoint {name!r}: {status} ({elapsed:.0f}s)")
                last_status = status
            if elapsed > timeout:
                raise SkiffException(
                    f"SageMaker endpoint {name!r} is still {status} after {timeout}s: check it "
                    "with skiff deployments get, or wait longer with -C timeout_seconds=<s>",
                    "DEADLINE_EXCEEDED")
            time.sleep(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)])
        raise AssertionError("unreachable")

    def _wait_gone(self, name: str, timeout: int) -> None:
        start = time.monotonic()
        for attempt in range(1_000_000):
            if self.describe(name) is None:
                return
            if time.monotonic() - start > timeout:
                raise SkiffException(
                    f"SageMaker endpoint {name!r} is still being deleted after {timeout}s",
                    "DEADLINE_EXCEEDED")
            time.sleep(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)])


def _variant_request(described: dict) -> dict:
    """An existing variant (describe output) as a create_endpoint_config entry."""
    keys = ("VariantName", "ModelName", "InitialInstanceCount", "InstanceType",
            "InitialVariantWeight", "AcceleratorType", "ServerlessConfig")
    return {k: described[k] for k in keys if described.get(k) is not None}
