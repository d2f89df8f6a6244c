"""The MLmodel file: :class:`Model` reads and writes it with every field MLflow writes, and
keeps unknown keys so a round trip loses nothing."""

from __future__ import annotations

import datetime
import os
import tempfile
import uuid

import yaml

from skiff.errors import SkiffException

MLMODEL_FILE_NAME = "MLmodel"
# The MLflow release whose format Skiff writes; MLflow's loaders read it as one of theirs.
MLFLOW_FORMAT_VERSION = "3.17.2"

_KNOWN_KEYS = (
    "artifact_path", "flavors", "model_uuid", "model_id", "run_id", "utc_time_created",
    "mlflow_version", "signature", "saved_input_example_info", "metadata", "model_size_bytes",
    "prompts", "resources", "auth_policy", "env_vars", "databricks_runtime",
    "is_signature_from_type_hint", "type_hint_from_example",
)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _skiff_version() -> str:
    from skiff.version import VERSION

    return VERSION


class Model:
    """An MLmodel: flavors plus metadata. Unknown top-level keys are kept as attributes."""

    def __init__(self, artifact_path=None, run_id=None, utc_time_created=None, flavors=None,
                 signature=None, saved_input_example_info=None, model_uuid=None,
                 mlflow_version=MLFLOW_FORMAT_VERSION, metadata=None, model_size_bytes=None,
                 model_id=None, prompts=None, resources=None, auth_policy=None, env_vars=None,
                 databricks_runtime=None, **kwargs):
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = str(utc_time_created or _utc_now())
        self.flavors = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid if model_uuid is not None else uuid.uuid4().hex
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        self.prompts = prompts
        self.resources = resources
        self.auth_policy = auth_policy
        self.env_vars = env_vars
        self.databricks_runtime = databricks_runtime
        self.is_signature_from_type_hint = kwargs.pop("is_signature_from_type_hint", False)
        self.type_hint_from_example = kwargs.pop("type_hint_from_example", False)
        self.skiff_version = kwargs.pop("skiff_version", _skiff_version())
        self._extra = dict(kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    # -- flavors ---------------------------------------------------------------------------
    def add_flavor(self, name: str, **params) -> Model:
        self.flavors[name] = params
        return self

    def get_flavor(self, name: str) -> dict:
        if name not in self.flavors:
            raise SkiffException(
                f'Model does not have the "{name}" flavor; it has: {sorted(self.flavors)}',
                "RESOURCE_DOES_NOT_EXIST")
        return self.flavors[name]

    def get_input_schema(self):
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self):
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self):
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str | None = None):
        from skiff.models.input_example import read_example

        return read_example(self, path or self._path)

    def load_input_example_params(self, path: str | None = None):
        from skiff.models.input_example import read_example_params

        return read_example_params(self, path or self._path)

    # -- serialization -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        d: dict = {}
        if self.artifact_path is not None:
            d["artifact_path"] = self.artifact_path
        d["flavors"] = self.flavors
        d["model_uuid"] = self.model_uuid
        d["model_id"] = self.model_id
        if self.run_id is not None:
            d["run_id"] = self.run_id
        d["utc_time_created"] = self.utc_time_created
        d["mlflow_version"] = self.mlflow_version
        d["skiff_version"] = self.skiff_version
        if self.signature is not None:
            d["signature"] = self.signature.to_dict()
            d["is_signature_from_type_hint"] = self.is_signature_from_type_hint
            d["type_hint_from_example"] = self.type_hint_from_example
        if self.saved_input_example_info is not None:
            d["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata is not None:
            d["metadata"] = self.metadata
        d["prompts"] = self.prompts
        for key in ("resources", "auth_policy", "model_size_bytes", "env_vars",
                    "databricks_runtime"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        for key in self._extra:
            d[key] = getattr(self, key)
        return d

    def to_yaml(self) -> str:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(self.to_dict(), Dumper=dumper, default_flow_style=False)

    def __str__(self):
        return self.to_yaml()

    def save(self, path: str) -> None:
        """Write the MLmodel file at ``path`` (a file path, or a directory to write into)."""
        if os.path.isdir(path):
            path = os.path.join(path, MLMODEL_FILE_NAME)
        with open(path, "w") as fh:
            fh.write(self.to_yaml())

    @classmethod
    def from_dict(cls, d: dict) -> Model:
        from skiff.models.signature import ModelSignature

        d = dict(d)
        sig = d.get("signature")
        if isinstance(sig, dict):
            d["signature"] = ModelSignature.from_dict(sig)
        d.setdefault("model_uuid", None)
        d.setdefault("mlflow_version", None)
        model = cls(**d)
        if d.get("model_uuid") is None:
            model.model_uuid = None
        return model

    @classmethod
    def load(cls, path) -> Model:
        """Read an MLmodel file: from a model directory, the file itself, or any model URI
        (``runs:/``, ``models:/``, ``s3://``...), fetching only the MLmodel file."""
        path = os.fspath(path)
        local = _local_path(path)
        if local is not None:
            if os.path.isdir(local):
                local = os.path.join(local, MLMODEL_FILE_NAME)
            if not os.path.exists(local):
                raise SkiffException(
                    f'Could not find an "{MLMODEL_FILE_NAME}" configuration file at "{path}"',
                    "RESOURCE_DOES_NOT_EXIST")
            model = cls._read(local)
            model._path = os.path.dirname(local)
            return model
        from skiff.artifacts.resolve import get_artifact_repository
        from skiff.models.saving import _resolve_model_uri

        concrete = _resolve_model_uri(path)
        with tempfile.TemporaryDirectory() as tmp:
            repo = get_artifact_repository(concrete)
            try:
                local = repo.download_artifacts(MLMODEL_FILE_NAME, tmp)
            except SkiffException as exc:
                raise SkiffException(
                    f'Could not find an "{MLMODEL_FILE_NAME}" file at model URI "{path}": '
                    f"{exc.message}", "RESOURCE_DOES_NOT_EXIST") from exc
            model = cls._read(local)
        model._path = None
        return model

    @classmethod
    def _read(cls, file_path: str) -> Model:
        return cls.from_dict(_read_yaml_cached(file_path))

    _path: str | None = None

    def get_model_info(self) -> ModelInfo:
        return ModelInfo.from_model(self)

    @classmethod
    def log(cls, artifact_path=None, flavor=None, registered_model_name=None,
            await_registration_for=300, name=None, params=None, tags=None, model_type=None,
            step=0, model_id=None, **kwargs) -> ModelInfo:
        """Log a model with ``flavor`` (a module with ``save_model(path=..., mlflow_model=...,
        **kwargs)``) as a logged model; MLflow's ``Model.log``."""
        from skiff.models.logged import log_model

        if flavor is None:
            raise SkiffException.invalid_parameter_value("Model.log needs a flavor module")
        return log_model(flavor, name=name, artifact_path=artifact_path,
                         registered_model_name=registered_model_name,
                         await_registration_for=await_registration_for, params=params,
                         tags=tags, model_type=model_type, step=step, model_id=model_id,
                         save_kwargs=kwargs)


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~20x faster
_yaml_cache: dict = {}


def _read_yaml_cached(file_path: str) -> dict:
    """The parsed MLmodel, cached by path, size and mtime: a model load reads it twice
    (pyfunc, then the flavor), and parsing dominates a small model's load time."""
    import copy

    stat = os.stat(file_path)
    key = (os.path.abspath(file_path), stat.st_size, stat.st_mtime_ns)
    data = _yaml_cache.get(key)
    if data is None:
        with open(file_path) as fh:
            data = yaml.load(fh, Loader=_SafeLoader)
        if not isinstance(data, dict):
            raise SkiffException.invalid_parameter_value(f"Malformed MLmodel file: {file_path}")
        if len(_yaml_cache) > 256:
            _yaml_cache.clear()
        _yaml_cache[key] = data
    return copy.deepcopy(data)


def _local_path(uri: str) -> str | None:
    """The filesystem path of a plain path or ``file:`` URI, None for remote URIs."""
    from skiff.registry import uri_scheme
    from skiff.utils.uri import local_path_from_uri

    if uri_scheme(uri) in ("", "file"):
        return local_path_from_uri(uri)
    return None


def directory_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


class ModelInfo:
    """What ``log_model`` returns (MLflow's field names)."""

    def __init__(self, artifact_path, flavors, model_uri, model_uuid, run_id,
                 saved_input_example_info, signature, utc_time_created, mlflow_version,
                 metadata=None, registered_model_version=None, env_vars=None, model_id=None,
                 name=None, params=None, tags=None, metrics=None, creation_timestamp=None):
        self.artifact_path = artifact_path
        self.flavors = flavors
        self.model_uri = model_uri
        self.model_uuid = model_uuid
        self.run_id = run_id
        self.saved_input_example_info = saved_input_example_info
        self.signature = signature
        self.utc_time_created = utc_time_created
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.registered_model_version = registered_model_version
        self.env_vars = env_vars
        self.model_id = model_id
        self.name = name
        self.params = params or {}
        self.tags = tags or {}
        self.metrics = metrics
        self.creation_timestamp = creation_timestamp

    @property
    def signature_dict(self):
        return self.signature.to_dict() if self.signature is not None else None

    @classmethod
    def from_model(cls, model: Model, model_uri: str | None = None, **extra) -> ModelInfo:
        return cls(
            artifact_path=model.artifact_path, flavors=model.flavors,
            model_uri=model_uri or (f"models:/{model.model_id}" if model.model_id else None),
            model_uuid=model.model_uuid, run_id=model.run_id,
            saved_input_example_info=model.saved_input_example_info,
            signature=model.signature, utc_time_created=model.utc_time_created,
            mlflow_version=model.mlflow_version, metadata=model.metadata,
            env_vars=model.env_vars, model_id=model.model_id, **extra)

    def __repr__(self):
        return f"ModelInfo(model_uri={self.model_uri!r}, flavors={sorted(self.flavors)})"
