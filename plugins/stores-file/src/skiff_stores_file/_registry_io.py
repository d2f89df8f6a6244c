"""On-disk form of the file model registry, in MLflow's layout under ``<root>/models``:

    models/<name>/meta.yaml             registered model (aliases mirrored here, as MLflow does)
    models/<name>/tags/<key>            one file per tag, content = value
    models/<name>/aliases/<alias>       content = version number (the source of truth)
    models/<name>/version-<N>/meta.yaml model version; deleted ones stay as tombstones
    models/<name>/version-<N>/tags/<key>

The directory name is the model's name; a ``name`` field in a meta.yaml that disagrees (a
rename cut short) loses to it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid

from skiff.entities import ModelVersion, RegisteredModel
from skiff.entities.registry import STAGE_DELETED_INTERNAL, STAGE_NONE, ModelVersionStatus
from skiff.errors import SkiffException
from skiff.store.registry_rules import validate_model_name, validate_version
from skiff_stores_file import _files

MODELS = "models"
TAGS = "tags"
ALIASES = "aliases"
VERSION_PREFIX = "version-"
# A model being deleted is renamed to this prefix first, then removed.
TRASH_PREFIX = ".skiff-deleting-"
WORKSPACE = "default"


def now_ms() -> int:
    return int(time.time() * 1000)


def not_found(message: str) -> SkiffException:
    return SkiffException(message, "RESOURCE_DOES_NOT_EXIST")


def check_name(name) -> None:
    validate_model_name(name)
    # MLflow's file store refuses these too: they would change what the path means.
    if "\\" in name or "%" in name or name.startswith("."):
        raise SkiffException.invalid_parameter_value(
            f"Invalid name: '{name}'. Registered model names in a file store cannot contain "
            "'\\' or '%' nor start with '.'.")
    if len(name.encode("utf-8")) > _files.NAME_MAX_BYTES:  # a model is a directory
        raise SkiffException.invalid_parameter_value(
            f"Registered model name exceeds {_files.NAME_MAX_BYTES} bytes, the longest "
            "directory name a file store can make.")


def version_dir_name(version) -> str:
    return f"{VERSION_PREFIX}{validate_version(version)}"


def read_value_files(directory: str) -> dict[str, str]:
    """Tag or alias files below ``directory``: {relative key: content}."""
    out = {}
    for key, path in sorted(_files.list_files(directory)):
        with contextlib.suppress(FileNotFoundError):
            out[key] = _files.read_text(path)
    return out


def write_value_file(directory: str, key: str, value: str) -> None:
    _files.check_keys_fit([key], "tag or alias", directory)
    _files.atomic_write(os.path.join(directory, *key.split("/")), value)


def remove_value_file(directory: str, key: str) -> bool:
    _files.check_keys_fit([key], "tag or alias")
    try:
        os.unlink(os.path.join(directory, *key.split("/")))
        return True
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False


def remove_tree(path: str) -> None:
    """Rename then delete, so a reader (or a crash) never sees half a tree."""
    trash = os.path.join(os.path.dirname(path), f"{TRASH_PREFIX}{uuid.uuid4().hex}")
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def list_version_numbers(model_dir: str) -> list[int]:
    """Every allocated version number, tombstones and unfinished creations included."""
    numbers = []
    for entry in _files.list_dirs(model_dir):
        suffix = entry.name[len(VERSION_PREFIX):]
        if entry.name.startswith(VERSION_PREFIX) and suffix.isdigit():
            numbers.append(int(suffix))
    return numbers


class ModelFiles:
    """Reads and writes registered-model and model-version files under one root."""

    def __init__(self, root: str):
        self.models_root = os.path.join(root, MODELS)
        self._cache = _files.StatCache()

    # -- paths ---------------------------------------------------------------------------
    def model_dir(self, name: str) -> str:
        check_name(name)
        return os.path.join(self.models_root, name)

    def names_locked(self):
        """Held while a model name is taken, moved or freed (create, rename, delete), so
        racing threads or processes see each other's outcome, never half of it."""
        os.makedirs(self.models_root, exist_ok=True)
        return _files.locked(self.models_root)

    def existing_model_dir(self, name: str) -> str:
        path = self.model_dir(name)
        if not os.path.isfile(os.path.join(path, _files.META)):
            raise not_found(f"Registered Model with name={name} not found")
        return path

    def model_names(self) -> list[str]:
        self._sweep_trash()
        return sorted(e.name for e in _files.list_dirs(self.models_root)
                      if not e.name.startswith(".")
                      and os.path.isfile(os.path.join(e.path, _files.META)))

    def _sweep_trash(self) -> None:
        # Left behind only by a crash between the rename and the removal.
        for entry in _files.list_dirs(self.models_root):
            if entry.name.startswith(TRASH_PREFIX):
                shutil.rmtree(entry.path, ignore_errors=True)

    def read_meta(self, path: str) -> dict:
        return dict(self._cache.get(os.path.join(path, _files.META), _files.load_yaml))

    # -- registered models ---------------------------------------------------------------------
    def aliases(self, model_dir: str) -> dict[str, str]:
        return {k: v.strip() for k, v in read_value_files(os.path.join(model_dir, ALIASES)).items()}

    def write_model_meta(self, model_dir: str, meta: dict, exclusive: bool = False) -> bool:
        data = {
            "aliases": self.aliases(model_dir),
            "creation_timestamp": meta.get("creation_timestamp"),
            "deployment_job_id": meta.get("deployment_job_id"),
            "deployment_job_state": meta.get("deployment_job_state"),
            "description": meta.get("description"),
            "last_updated_timestamp": meta.get("last_updated_timestamp"),
            "name": os.path.basename(model_dir),
            "workspace": meta.get("workspace") or WORKSPACE,
        }
        path = os.path.join(model_dir, _files.META)
        if exclusive:
            return _files.create_once(path, _files.dump_yaml(data))
        _files.atomic_write(path, _files.dump_yaml(data))
        return True

    def touch_model(self, model_dir: str, when: int | None = None, **changes) -> dict:
        """Rewrite the model's meta.yaml with ``changes`` and a new last_updated_timestamp."""
        with _files.locked(model_dir):
            meta = self.read_meta(model_dir)
            meta.update(changes)
            meta["last_updated_timestamp"] = when or now_ms()
            self.write_model_meta(model_dir, meta)
        return meta

    def registered_model(self, model_dir: str, latest_versions: list) -> RegisteredModel:
        meta = self.read_meta(model_dir)
        return RegisteredModel(
            name=os.path.basename(model_dir),
            creation_timestamp=meta.get("creation_timestamp"),
            last_updated_timestamp=meta.get("last_updated_timestamp"),
            description=meta.get("description"),
            latest_versions=latest_versions,
            tags=read_value_files(os.path.join(model_dir, TAGS)),
            aliases=self.aliases(model_dir),
            user_id=meta.get("user_id"),
        )

    # -- versions ---------------------------------------------------------------------------------
    def version_metas(self, model_dir: str) -> list[dict]:
        """meta.yaml of every version of a model (tombstones included), lowest first."""
        out = []
        for number in sorted(list_version_numbers(model_dir)):
            path = os.path.join(model_dir, f"{VERSION_PREFIX}{number}")
            try:
                meta = self.read_meta(path)
            except FileNotFoundError:
                continue  # being created right now
            meta["version"] = number
            meta["_dir"] = path
            out.append(meta)
        return out

    def version_meta(self, name: str, version, include_deleted: bool = False) -> dict:
        number = validate_version(version)
        model_dir = self.existing_model_dir(name)
        path = os.path.join(model_dir, f"{VERSION_PREFIX}{number}")
        try:
            meta = self.read_meta(path)
        except FileNotFoundError:
            meta = None
        if meta is None or (meta.get("current_stage") == STAGE_DELETED_INTERNAL
                            and not include_deleted):
            raise not_found(f"Model Version (name={name}, version={number}) not found")
        meta["version"] = number
        meta["_dir"] = path
        return meta

    @staticmethod
    def write_version_meta(meta: dict) -> None:
        directory = meta["_dir"]
        data = {
            "creation_timestamp": meta.get("creation_timestamp"),
            "current_stage": meta.get("current_stage") or STAGE_NONE,
            "deployment_job_state": meta.get("deployment_job_state"),
            "description": meta.get("description"),
            "last_updated_timestamp": meta.get("last_updated_timestamp"),
            "model_id": meta.get("model_id"),
            "name": os.path.basename(os.path.dirname(directory)),
            "run_id": meta.get("run_id"),
            "run_link": meta.get("run_link"),
            "source": meta.get("source"),
            "status": meta.get("status") or ModelVersionStatus.READY,
            "status_message": meta.get("status_message"),
            "storage_location": meta.get("storage_location"),
            "user_id": meta.get("user_id"),
            "version": int(meta["version"]),
            "workspace": meta.get("workspace") or WORKSPACE,
        }
        _files.atomic_write(os.path.join(directory, _files.META), _files.dump_yaml(data))

    def model_version(self, meta: dict, aliases: dict[str, str] | None = None) -> ModelVersion:
        directory = meta["_dir"]
        model_dir = os.path.dirname(directory)
        version = str(meta["version"])
        if aliases is None:
            aliases = self.aliases(model_dir)
        return ModelVersion(
            name=os.path.basename(model_dir),
            version=version,
            creation_timestamp=meta.get("creation_timestamp") or 0,
            last_updated_timestamp=meta.get("last_updated_timestamp"),
            description=meta.get("description"),
            user_id=meta.get("user_id"),
            current_stage=meta.get("current_stage") or STAGE_NONE,
            source=meta.get("source"),
            run_id=meta.get("run_id"),
            status=meta.get("status") or ModelVersionStatus.READY,
            status_message=meta.get("status_message"),
            tags=read_value_files(os.path.join(directory, TAGS)),
            run_link=meta.get("run_link"),
            aliases=sorted(a for a, v in aliases.items() if v == version),
            model_id=meta.get("model_id"),
        )
