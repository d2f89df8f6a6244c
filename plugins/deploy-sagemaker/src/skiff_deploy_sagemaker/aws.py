"""boto3 sessions and clients, and AWS errors turned into one line that names the fix."""

from __future__ import annotations

import contextlib
import functools

from skiff.errors import SkiffException

CONNECT_TIMEOUT = 10


class AwsContext:
    """A session for one region (after assuming a role, if asked) and its clients."""

    def __init__(self, region_name: str | None, assume_role_arn: str | None = None):
        import boto3

        session = boto3.Session(region_name=region_name) if region_name else boto3.Session()
        region = session.region_name
        if not region:
            raise SkiffException.invalid_parameter_value(
                "No AWS region given: use a target like sagemaker:/us-east-1, pass "
                "-C region_name=<region>, or set AWS_DEFAULT_REGION")
        if assume_role_arn:
            with aws_errors("assume role " + assume_role_arn, session):
                creds = session.client("sts", config=_client_config()).assume_role(
                    RoleArn=assume_role_arn, RoleSessionName="skiff-sagemaker")["Credentials"]
            session = boto3.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"], region_name=region)
        self.session = session
        self.region = region
        self._clients: dict = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region,
                                                         config=_client_config())
        return self._clients[service]

    @functools.cached_property
    def caller_arn(self) -> str:
        with aws_errors("look up the AWS account (sts get-caller-identity)", self.session):
            return self.client("sts").get_caller_identity()["Arn"]

    @property
    def account_id(self) -> str:
        return self.caller_arn.split(":")[4]

    def default_execution_role(self) -> str:
        """The caller's own role (MLflow's default), or an error when the caller is no role."""
        arn = self.caller_arn
        parts = arn.split(":")
        resource = parts[5] if len(parts) > 5 else ""
        if resource.startswith("assumed-role/"):
            return f"arn:{parts[1]}:iam::{parts[4]}:role/{resource.split('/')[1]}"
        if resource.startswith("role/"):
            return arn
        raise SkiffException.invalid_parameter_value(
            f"No execution role given and the AWS caller ({arn}) is not a role: pass "
            "-C execution_role_arn=arn:aws:iam::<account>:role/<role SageMaker may assume>")


def _client_config():
    from botocore.config import Config

    return Config(retries={"max_attempts": 3, "mode": "standard"},
                  connect_timeout=CONNECT_TIMEOUT, read_timeout=120)


def error_code(exc) -> str:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")


def error_message(exc) -> str:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Message", str(exc))


def is_not_found(exc) -> bool:
    code = error_code(exc)
    message = error_message(exc)
    return code in ("404", "NoSuchBucket", "NoSuchKey", "NotFound", "ResourceNotFound",
                    "RepositoryNotFoundException") or (
        code == "ValidationException" and ("Could not find" in message
                                           or "does not exist" in message))


@contextlib.contextmanager
def aws_errors(action: str, session=None):
    """Turn botocore's errors raised while doing ``action`` into one SkiffException line."""
    from botocore import exceptions as bx

    try:
        yield
    except SkiffException:
        raise
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as exc:
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "")
        raise SkiffException(
            f"Cannot reach AWS {url} to {action}: check the network, the region, and "
            "AWS_ENDPOINT_URL if you use a custom endpoint", "TEMPORARILY_UNAVAILABLE") from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise SkiffException(
            f"No AWS credentials to {action}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE, or run `aws configure`", "PERMISSION_DENIED") from None
    except bx.ClientError as exc:
        code = error_code(exc)
        raise SkiffException(
            f"AWS refused to {action}: {code}: {' '.join(error_message(exc).split())}",
            "PERMISSION_DENIED" if "AccessDenied" in code or "Unauthorized" in code
            else "INVALID_PARAMETER_VALUE") from None
    except bx.BotoCoreError as exc:
        raise SkiffException(f"AWS error while trying to {action}: {exc}") from None
