"""Target URIs and ``-C`` settings of the sagemaker target: parsing, types, defaults, checks."""

from __future__ import annotations

import dataclasses
import json
import re

from skiff.errors import SkiffException

DEFAULT_INSTANCE_TYPE = "ml.m4.xlarge"
DEFAULT_IMAGE_NAME = "skiff-pyfunc"
DEPLOYMENT_MODES = ("create", "replace", "add")
INT_KEYS = ("instance_count", "timeout_seconds")
BOOL_KEYS = ("synchronous", "archive")
DICT_KEYS = ("vpc_config", "data_capture_config", "env", "tags", "async_inference_config",
             "serverless_config")
STR_KEYS = ("region_name", "assume_role_arn", "execution_role_arn", "bucket", "image_url",
            "instance_type", "variant_name", "mode")
DEPLOY_KEYS = frozenset(INT_KEYS + BOOL_KEYS + DICT_KEYS + STR_KEYS)
DELETE_KEYS = frozenset({"region_name", "assume_role_arn", "archive", "synchronous",
                         "timeout_seconds"})
# SageMaker's rule for endpoint, model and config names.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
ROLE_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")


def parse_target_uri(target_uri: str) -> tuple[str | None, str | None]:
    """``sagemaker``, ``sagemaker:/<region>`` or ``sagemaker:/<region>/<assume_role_arn>``
    -> (region, assume_role_arn)."""
    rest = target_uri.split(":", 1)[1] if ":" in target_uri else ""
    rest = rest.lstrip("/")
    if not rest:
        return None, None
    region, _, role = rest.partition("/")
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise SkiffException.invalid_parameter_value(
            f"Target {target_uri!r} does not name an AWS region: use sagemaker:/<region> "
            "(e.g. sagemaker:/us-east-1) or sagemaker:/<region>/<assume_role_arn>")
    return region, role or None


def _as_bool(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise SkiffException.invalid_parameter_value(
        f"Config {key}={value!r} is not a boolean: use {key}=true or {key}=false")


def _as_int(key: str, value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SkiffException.invalid_parameter_value(
            f"Config {key}={value!r} is not an integer") from None
    if number < 1:
        raise SkiffException.invalid_parameter_value(f"Config {key} must be at least 1")
    return number


def _as_dict(key: str, value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise SkiffException.invalid_parameter_value(
            f"Config {key} is not a JSON object: pass {key}='{{\"Key\": \"value\"}}'") from None
    if not isinstance(parsed, dict):
        raise SkiffException.invalid_parameter_value(f"Config {key} must be a JSON object")
    return parsed


def coerce(config: dict | None, allowed=DEPLOY_KEYS) -> dict:
    """``-C`` strings -> typed values; an unknown key is an error listing the known ones."""
    out = {}
    for key, value in (config or {}).items():
        if key == "async":  # MLflow has no such key either; say what to use
            raise SkiffException.invalid_parameter_value(
                "Config 'async' is not a setting: use -C synchronous=false")
        if key not in allowed:
            raise SkiffException.invalid_parameter_value(
                f"Unknown sagemaker config {key!r}; known: {', '.join(sorted(allowed))}")
        if value is None:
            continue
        if key in INT_KEYS:
            value = _as_int(key, value)
        elif key in BOOL_KEYS:
            value = _as_bool(key, value)
        elif key in DICT_KEYS:
            value = _as_dict(key, value)
        out[key] = value
    return out


@dataclasses.dataclass
class DeploySettings:
    """Everything one create/update needs, after defaults and checks."""

    region_name: str | None = None
    assume_role_arn: str | None = None
    execution_role_arn: str | None = None
    bucket: str | None = None
    image_url: str | None = None
    instance_type: str = DEFAULT_INSTANCE_TYPE
    instance_count: int = 1
    vpc_config: dict | None = None
    data_capture_config: dict | None = None
    variant_name: str | None = None
    synchronous: bool = True
    timeout_seconds: int = 1200
    archive: bool = False
    env: dict = dataclasses.field(default_factory=dict)
    tags: dict = dataclasses.field(default_factory=dict)
    async_inference_config: dict = dataclasses.field(default_factory=dict)
    serverless_config: dict = dataclasses.field(default_factory=dict)
    mode: str = "create"

    @classmethod
    def build(cls, target_uri: str, config: dict | None, default_mode: str) -> DeploySettings:
        values = coerce(config)
        uri_region, uri_role = parse_target_uri(target_uri)
        values.setdefault("region_name", uri_region)
        values.setdefault("assume_role_arn", uri_role)
        values.setdefault("mode", default_mode)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.mode not in DEPLOYMENT_MODES:
            raise SkiffException.invalid_parameter_value(
                f"Config mode={self.mode!r} is not one of {', '.join(DEPLOYMENT_MODES)}")
        if self.execution_role_arn and not ROLE_PATTERN.match(self.execution_role_arn):
            raise SkiffException.invalid_parameter_value(
                f"Config execution_role_arn={self.execution_role_arn!r} is not an IAM role ARN: "
                "use arn:aws:iam::<account>:role/<name>")
        if self.variant_name and not NAME_PATTERN.match(self.variant_name):
            raise SkiffException.invalid_parameter_value(
                f"Config variant_name={self.variant_name!r} is not a valid SageMaker name "
                "(letters, digits and hyphens, at most 63)")
        for key, value in (("env", self.env), ("tags", self.tags)):
            bad = [k for k, v in value.items() if not isinstance(v, (str, int, float, bool))]
            if bad:
                raise SkiffException.invalid_parameter_value(
                    f"Config {key} values must be strings; not for {', '.join(bad)}")


def check_endpoint_name(name: str) -> None:
    if not name or not NAME_PATTERN.match(name):
        raise SkiffException.invalid_parameter_value(
            f"{name!r} is not a valid SageMaker endpoint name: use letters, digits and hyphens "
            "(at most 63, starting and ending with a letter or digit)")
