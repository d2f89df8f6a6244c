"""The server's settings: one object built from the command line or the environment and
handed to ``create_app`` (and to gunicorn workers as JSON in an environment variable)."""

from __future__ import annotations

import json
import os

import attrs

from skiff.env import get_env, get_env_bool

CONFIG_ENV_VAR = "_SKIFF_SERVER_CONFIG"
DEFAULT_BACKEND_STORE_URI = "./mlruns"
DEFAULT_ARTIFACTS_DESTINATION = "./mlartifacts"
# JSON request bodies above this size are refused (log-batch has MLflow's own 1 MB cap).
DEFAULT_MAX_JSON_BYTES = 32 * 1024 * 1024


def _split(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


@attrs.define
class ServerConfig:
    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI
    registry_store_uri: str | None = None
    default_artifact_root: str | None = None
    serve_artifacts: bool = True
    artifacts_destination: str = DEFAULT_ARTIFACTS_DESTINATION
    artifacts_only: bool = False
    static_prefix: str = ""
    host: str = "127.0.0.1"
    port: int = 5000
    allowed_hosts: list[str] | None = attrs.field(default=None, converter=_split)
    cors_allowed_origins: list[str] | None = attrs.field(default=None, converter=_split)
    disable_security_middleware: bool = False
    x_frame_options: str = "SAMEORIGIN"
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    expose_prometheus: str | None = None

    @classmethod
    def coerce(cls, config) -> ServerConfig:
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if isinstance(config, dict):
            known = {f.name for f in attrs.fields(cls)}
            return cls(**{k: v for k, v in config.items() if k in known})
        raise TypeError(f"Expected a ServerConfig or a dict, got {type(config).__name__}")

    @classmethod
    def from_env(cls) -> ServerConfig:
        """The config a gunicorn worker inherits from ``skiff server``."""
        raw = os.environ.get(CONFIG_ENV_VAR)
        if raw:
            return cls.coerce(json.loads(raw))
        return cls(
            backend_store_uri=get_env("BACKEND_STORE_URI") or DEFAULT_BACKEND_STORE_URI,
            registry_store_uri=get_env("REGISTRY_STORE_URI"),
            default_artifact_root=get_env("DEFAULT_ARTIFACT_ROOT"),
            serve_artifacts=get_env_bool("SERVE_ARTIFACTS", True),
            artifacts_destination=get_env("ARTIFACTS_DESTINATION")
            or DEFAULT_ARTIFACTS_DESTINATION,
            artifacts_only=get_env_bool("ARTIFACTS_ONLY", False),
            static_prefix=get_env("STATIC_PREFIX") or "",
            allowed_hosts=get_env("SERVER_ALLOWED_HOSTS"),
            cors_allowed_origins=get_env("SERVER_CORS_ALLOWED_ORIGINS"),
            disable_security_middleware=get_env_bool("SERVER_DISABLE_SECURITY_MIDDLEWARE"),
            x_frame_options=get_env("SERVER_X_FRAME_OPTIONS") or "SAMEORIGIN",
        )

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self))

    @property
    def artifact_root(self) -> str | None:
        """Where new experiments keep artifacts (MLflow's rules, reference §6); None lets a
        local file store keep them beside its runs."""
        if self.default_artifact_root:
            return self.default_artifact_root
        if self.serve_artifacts:
            return "mlflow-artifacts:/"
        from skiff.registry import uri_scheme

        if uri_scheme(self.backend_store_uri) in ("", "file"):
            return None
        return os.path.abspath(DEFAULT_BACKEND_STORE_URI)

    def validate(self) -> None:
        from skiff.errors import SkiffException

        prefix = self.static_prefix
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise SkiffException.invalid_parameter_value(
                f"--static-prefix must begin with a '/' and must not end with one: {prefix!r}"
            )
        if self.artifacts_only and not self.serve_artifacts:
            raise SkiffException.invalid_parameter_value(
                "--artifacts-only needs artifact serving; drop --no-serve-artifacts"
            )
