"""The boto3 client (built once per settings) and the translation of boto errors into one-line
SkiffExceptions that name what is missing and which variable sets it."""

from __future__ import annotations

import contextlib
import json
import os

from skiff.artifacts.object_store import ClientCache
from skiff.artifacts.transfer import max_workers, timeout_seconds
from skiff.env import get_env, get_env_bool
from skiff.errors import SkiffException

_clients = ClientCache()


def endpoint_url() -> str | None:
    return get_env("S3_ENDPOINT_URL") or None


def upload_extra_args() -> dict:
    raw = get_env("S3_UPLOAD_EXTRA_ARGS")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise SkiffException.invalid_parameter_value(
            f"MLFLOW_S3_UPLOAD_EXTRA_ARGS is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SkiffException.invalid_parameter_value(
            "MLFLOW_S3_UPLOAD_EXTRA_ARGS must be a JSON object")
    return value


def part_checksums_wanted() -> bool:
    """Whether multipart uploads carry per-part CRC32 checksums, as boto3 itself does unless
    ``AWS_REQUEST_CHECKSUM_CALCULATION=when_required`` (set that for S3-compatible stores
    that reject the checksum headers). S3 verifies each part with it, and a store that has
    none to combine at completion computes its own over the whole object (moto: a second
    copy of it)."""
    value = os.environ.get("AWS_REQUEST_CHECKSUM_CALCULATION", "when_supported")
    return value.strip().lower() != "when_required"


def bucket_owner_args() -> dict:
    owner = get_env("S3_EXPECTED_BUCKET_OWNER")
    return {"ExpectedBucketOwner": owner} if owner else {}


def get_client():
    """A thread-safe boto3 S3 client for the current settings (cached: building one costs
    tens of milliseconds)."""
    key = (endpoint_url(), get_env_bool("S3_IGNORE_TLS"),
           get_env("BOTO_CLIENT_ADDRESSING_STYLE", "auto"),
           get_env("EXPERIMENTAL_S3_SIGNATURE_VERSION", "s3v4"), timeout_seconds(),
           tuple(_session_twins().items()))
    return _clients.get(key, _build_client)


# SKIFF_AWS_* twins of boto's variables; boto3 still reads AWS_* and profiles itself.
_SESSION_TWINS = {"AWS_ACCESS_KEY_ID": "aws_access_key_id",
                  "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
                  "AWS_SESSION_TOKEN": "aws_session_token",
                  "AWS_DEFAULT_REGION": "region_name", "AWS_PROFILE": "profile_name"}


def _session_twins() -> dict:
    return {arg: os.environ["SKIFF_" + name] for name, arg in _SESSION_TWINS.items()
            if os.environ.get("SKIFF_" + name)}


def _build_client(endpoint, ignore_tls, addressing_style, signature_version, timeout,
                  session_args):
    import boto3
    from botocore.config import Config

    options = dict(
        signature_version=signature_version,
        s3={"addressing_style": addressing_style},
        # boto's own backoff; AWS_MAX_ATTEMPTS / AWS_RETRY_MODE still win when set.
        retries={"max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS", 5)),
                 "mode": os.environ.get("AWS_RETRY_MODE", "standard")},
        max_pool_connections=max(max_workers() * 2, 10),
        # Skiff sends Content-MD5 itself; skip the second (CRC32) checksum boto adds.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )

    if timeout:
        options.update(connect_timeout=timeout, read_timeout=timeout)
    session = boto3.session.Session(**dict(session_args))
    return session.client("s3", endpoint_url=endpoint, verify=False if ignore_tls else None,
                          config=Config(**options))


def _describe_endpoint() -> str:
    return endpoint_url() or "the AWS S3 endpoint"


@contextlib.contextmanager
def s3_errors(bucket: str, key: str | None = None):
    """Turn boto errors into one-line SkiffExceptions."""
    from botocore import exceptions as bx

    try:
        yield
    except SkiffException:
        raise
    except bx.NoCredentialsError:
        raise SkiffException(
            f"No AWS credentials found for s3://{bucket}: set AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY (or AWS_PROFILE / ~/.aws/credentials)",
            "PERMISSION_DENIED") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as exc:
        raise SkiffException(
            f"Cannot reach {_describe_endpoint()} ({exc}): check MLFLOW_S3_ENDPOINT_URL "
            f"(or SKIFF_S3_ENDPOINT_URL)", "TEMPORARILY_UNAVAILABLE") from None
    except bx.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "NoSuchBucket":
            raise SkiffException(
                f"S3 bucket {bucket!r} does not exist at {_describe_endpoint()}: create it or "
                f"fix the artifact URI (endpoint set by MLFLOW_S3_ENDPOINT_URL)",
                "RESOURCE_DOES_NOT_EXIST") from None
        if code in ("NoSuchKey", "404", "NotFound"):
            raise SkiffException(f"No such artifact: s3://{bucket}/{key or ''}",
                                 "RESOURCE_DOES_NOT_EXIST") from None
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403",
                    "ExpiredToken", "InvalidToken"):
            raise SkiffException(
                f"S3 refused access to s3://{bucket} ({code}): check AWS_ACCESS_KEY_ID, "
                f"AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or AWS_PROFILE",
                "PERMISSION_DENIED") from None
        raise SkiffException(f"S3 error on s3://{bucket}/{key or ''}: {exc}",
                             "INTERNAL_ERROR") from None
    except bx.BotoCoreError as exc:
        raise SkiffException(f"S3 error on s3://{bucket}/{key or ''}: {exc}",
                             "INTERNAL_ERROR") from None


def is_retryable(exc: BaseException) -> bool:
    """Errors worth another attempt at the part level (boto retries requests itself)."""
    from botocore import exceptions as bx

    if isinstance(exc, (bx.ConnectionError, bx.ReadTimeoutError, bx.IncompleteReadError,
                        ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, bx.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status in (408, 429)
    return False
