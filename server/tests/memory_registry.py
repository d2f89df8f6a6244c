"""A small in-memory registry store for the server's tests (a real RegistryStore, no mocks),
registered under the ``memory:`` scheme by :data:`MemoryRegistryPlugin`, beside the memory
tracking store. ``runs:/`` and ``models:/`` sources are resolved to storage locations with
the tracking store of the same URI, as the file and SQL registries do."""

from __future__ import annotations

import copy
import threading
import time

from skiff.entities import ModelVersion, PagedList, RegisteredModel
from skiff.entities.registry import (
    STAGE_ARCHIVED,
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    canonical_stage,
)
from skiff.errors import SkiffException
from skiff.plugins import hookimpl
from skiff.search import evaluate, parser
from skiff.search.paging import page_by_offset
from skiff.store.registry import RegistryStore
from skiff.store.registry_rules import (
    validate_alias,
    validate_model_name,
    validate_registry_tag,
    validate_version,
)
from skiff.utils.uri import append_to_uri_path


def _now() -> int:
    return int(time.time() * 1000)


def _missing(message: str) -> SkiffException:
    return SkiffException(message, "RESOURCE_DOES_NOT_EXIST")


class MemoryRegistry(RegistryStore):
    def __init__(self, store_uri=None, tracking_uri=None):
        super().__init__(store_uri, tracking_uri)
        self.lock = threading.RLock()
        self.models: dict[str, RegisteredModel] = {}
        self.versions: dict[str, dict[str, ModelVersion]] = {}
        self.locations: dict[tuple[str, str], str] = {}
        self.next_version: dict[str, int] = {}

    # helpers
    def _rm(self, name) -> RegisteredModel:
        rm = self.models.get(name)
        if rm is None:
            raise _missing(f"Registered Model with name={name} not found")
        return rm

    def _mv(self, name, version) -> ModelVersion:
        validate_version(version)
        mv = self.versions.get(name, {}).get(str(int(str(version))))
        if mv is None:
            raise _missing(f"Model Version (name={name}, version={version}) not found")
        return mv

    def _with_aliases(self, mv: ModelVersion) -> ModelVersion:
        out = copy.deepcopy(mv)
        out.aliases = sorted(a for a, v in self._rm(mv.name).aliases.items() if v == mv.version)
        return out

    def _full(self, rm: RegisteredModel) -> RegisteredModel:
        out = copy.deepcopy(rm)
        out.latest_versions = self.get_latest_versions(rm.name)
        return out

    def _storage_location(self, source: str, model_id: str | None) -> str:
        from skiff.tracking._stores import get_tracking_store

        tracking = get_tracking_store(self.tracking_uri)
        if source.startswith("runs:/"):
            from skiff.artifacts.resolve import parse_runs_uri

            run_id, path = parse_runs_uri(source)
            base = tracking.get_run(run_id).info.artifact_uri
            return append_to_uri_path(base, path) if path else base
        if source.startswith("models:/"):
            from skiff.models_uri import parse_models_uri

            parts = parse_models_uri(source)
            if "model_id" in parts:
                base = tracking.get_logged_model(parts["model_id"]).artifact_location
            else:
                base = self.get_model_version_download_uri(parts["name"], parts["version"])
            return append_to_uri_path(base, parts["path"]) if parts.get("path") else base
        return source

    # registered models
    def create_registered_model(self, name, tags=None, description=None):
        validate_model_name(name)
        with self.lock:
            if name in self.models:
                raise SkiffException(f"Registered Model (name={name}) already exists.",
                                     "RESOURCE_ALREADY_EXISTS")
            for t in tags or []:
                validate_registry_tag(t.key, t.value)
            now = _now()
            self.models[name] = RegisteredModel(
                name, now, now, description, tags={t.key: t.value for t in tags or []})
            self.versions[name] = {}
            self.next_version.setdefault(name, 1)
            return self._full(self.models[name])

    def update_registered_model(self, name, description):
        with self.lock:
            rm = self._rm(name)
            rm.description = description
            rm.last_updated_timestamp = _now()
            return self._full(rm)

    def rename_registered_model(self, name, new_name):
        validate_model_name(new_name)
        with self.lock:
            rm = self._rm(name)
            if new_name in self.models:
                raise SkiffException(f"Registered Model (name={new_name}) already exists.",
                                     "RESOURCE_ALREADY_EXISTS")
            rm.name = new_name
            self.models[new_name] = self.models.pop(name)
            self.versions[new_name] = self.versions.pop(name)
            self.next_version[new_name] = self.next_version.pop(name)
            for mv in self.versions[new_name].values():
                mv.name = new_name
                self.locations[(new_name, mv.version)] = self.locations.pop((name, mv.version))
            return self._full(rm)

    def delete_registered_model(self, name):
        with self.lock:
            self._rm(name)
            for version in self.versions.pop(name):
                self.locations.pop((name, version), None)
            del self.models[name]
            self.next_version.pop(name, None)

    def get_registered_model(self, name):
        with self.lock:
            return self._full(self._rm(name))

    def search_registered_models(self, filter_string=None, max_results=100, order_by=None,
                                 page_token=None):
        with self.lock:
            models = [self._full(m) for m in self.models.values()]
        models = evaluate.filter_registered_models(
            models, parser.parse_registered_model_filter(filter_string))
        models = evaluate.sort_registered_models(
            models, parser.parse_registered_model_order_by(order_by))
        page, token = page_by_offset(models, max_results, page_token)
        return PagedList(page, token)

    def get_latest_versions(self, name, stages=None):
        with self.lock:
            self._rm(name)
            wanted = [canonical_stage(s) for s in stages] if stages else None
            latest: dict[str, ModelVersion] = {}
            for mv in self.versions[name].values():
                if wanted is not None and mv.current_stage not in wanted:
                    continue
                best = latest.get(mv.current_stage)
                if best is None or int(mv.version) > int(best.version):
                    latest[mv.current_stage] = mv
            return [self._with_aliases(mv) for mv in
                    sorted(latest.values(), key=lambda v: int(v.version))]

    def set_registered_model_tag(self, name, tag):
        validate_registry_tag(tag.key, tag.value)
        with self.lock:
            self._rm(name).tags[tag.key] = tag.value

    def delete_registered_model_tag(self, name, key):
        with self.lock:
            tags = self._rm(name).tags
            if key not in tags:
                raise _missing(f"No tag with key {key!r} on registered model {name}")
            del tags[key]

    # versions
    def create_model_version(self, name, source, run_id=None, tags=None, run_link=None,
                             description=None, model_id=None):
        with self.lock:
            self._rm(name)
            location = self._storage_location(source, model_id)
            version = str(self.next_version[name])
            self.next_version[name] += 1
            now = _now()
            mv = ModelVersion(name, version, now, now, description, "", STAGE_NONE, source,
                              run_id, tags={t.key: t.value for t in tags or []},
                              run_link=run_link, model_id=model_id)
            self.versions[name][version] = mv
            self.locations[(name, version)] = location
            return self._with_aliases(mv)

    def update_model_version(self, name, version, description):
        with self.lock:
            mv = self._mv(name, version)
            mv.description = description
            mv.last_updated_timestamp = _now()
            return self._with_aliases(mv)

    def transition_model_version_stage(self, name, version, stage, archive_existing_versions):
        stage = canonical_stage(stage)
        if archive_existing_versions and stage not in (STAGE_STAGING, STAGE_PRODUCTION):
            raise SkiffException.invalid_parameter_value(
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are {STAGE_STAGING}, "
                f"{STAGE_PRODUCTION}")
        with self.lock:
            mv = self._mv(name, version)
            now = _now()
            if archive_existing_versions:
                for other in self.versions[name].values():
                    if other is not mv and other.current_stage == stage:
                        other.current_stage = STAGE_ARCHIVED
                        other.last_updated_timestamp = now
            mv.current_stage = stage
            mv.last_updated_timestamp = now
            return self._with_aliases(mv)

    def delete_model_version(self, name, version):
        with self.lock:
            mv = self._mv(name, version)
            del self.versions[name][mv.version]
            self.locations.pop((name, mv.version), None)
            rm = self._rm(name)
            rm.aliases = {a: v for a, v in rm.aliases.items() if v != mv.version}

    def get_model_version(self, name, version):
        with self.lock:
            return self._with_aliases(self._mv(name, version))

    def get_model_version_download_uri(self, name, version):
        with self.lock:
            mv = self._mv(name, version)
            return self.locations[(name, mv.version)]

    def search_model_versions(self, filter_string=None, max_results=10000, order_by=None,
                              page_token=None):
        with self.lock:
            versions = [self._with_aliases(mv) for by_name in self.versions.values()
                        for mv in by_name.values()]
        versions = evaluate.filter_model_versions(
            versions, parser.parse_model_version_filter(filter_string))
        versions = evaluate.sort_model_versions(
            versions, parser.parse_model_version_order_by(order_by))
        page, token = page_by_offset(versions, max_results, page_token)
        return PagedList(page, token)

    def set_model_version_tag(self, name, version, tag):
        validate_registry_tag(tag.key, tag.value)
        with self.lock:
            self._mv(name, version).tags[tag.key] = tag.value

    def delete_model_version_tag(self, name, version, key):
        with self.lock:
            tags = self._mv(name, version).tags
            if key not in tags:
                raise _missing(f"No tag with key {key!r} on model version {name}/{version}")
            del tags[key]

    # aliases
    def set_registered_model_alias(self, name, alias, version):
        validate_alias(alias)
        with self.lock:
            mv = self._mv(name, version)
            self._rm(name).aliases[alias] = mv.version

    def delete_registered_model_alias(self, name, alias):
        with self.lock:
            rm = self._rm(name)
            if alias not in rm.aliases:
                raise _missing(f"Registered model alias {alias} not found.")
            del rm.aliases[alias]

    def get_model_version_by_alias(self, name, alias):
        with self.lock:
            version = self._rm(name).aliases.get(alias)
            if version is None:
                raise _missing(f"Registered model alias {alias} not found.")
            return self.get_model_version(name, version)


_registries: dict[str, MemoryRegistry] = {}


class MemoryRegistryPlugin:
    """Registers ``memory://<name>`` registries: one shared store per name for the process."""

    @staticmethod
    @hookimpl
    def register_registry_stores(register):
        def factory(store_uri, tracking_uri=None):
            store = _registries.get(store_uri)
            if store is None:
                store = _registries[store_uri] = MemoryRegistry(store_uri,
                                                                tracking_uri or store_uri)
            return store

        register("memory", factory)
