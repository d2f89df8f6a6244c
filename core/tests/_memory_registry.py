"""A small in-memory registry store for the CLI tests (core's own venv has no store
plugin). Searches go through core's real filter/order parsers and evaluators."""

from __future__ import annotations

import itertools
import types

import attrs

from skiff.entities import ModelVersion, PagedList, RegisteredModel
from skiff.entities.registry import ALL_STAGES, STAGE_ARCHIVED, canonical_stage
from skiff.errors import SkiffException
from skiff.store.registry import RegistryStore

SCHEME = "memreg"
_clock = itertools.count(1_700_000_000_000, 1000)


def _missing(what: str) -> SkiffException:
    return SkiffException(f"{what} not found", "RESOURCE_DOES_NOT_EXIST")


class MemoryRegistryStore(RegistryStore):
    def __init__(self, store_uri=None, tracking_uri=None):
        super().__init__(store_uri, tracking_uri)
        self.models: dict[str, RegisteredModel] = {}
        self.versions: dict[str, dict[int, ModelVersion]] = {}

    def _model(self, name) -> RegisteredModel:
        if name not in self.models:
            raise _missing(f"Registered Model with name={name}")
        return self.models[name]

    def _with_latest(self, model) -> RegisteredModel:
        latest = self.get_latest_versions(model.name)
        return RegisteredModel(model.name, model.creation_timestamp,
                               model.last_updated_timestamp, model.description, latest,
                               dict(model.tags), dict(model.aliases))

    def _aliased(self, mv) -> ModelVersion:
        model = self.models[mv.name]
        aliases = sorted(a for a, v in model.aliases.items() if v == mv.version)
        return attrs.evolve(mv, aliases=aliases)

    def create_registered_model(self, name, tags=None, description=None):
        if name in self.models:
            raise SkiffException(f"Registered Model (name={name}) already exists.",
                                 "RESOURCE_ALREADY_EXISTS")
        now = next(_clock)
        self.models[name] = RegisteredModel(name, now, now, description,
                                            tags={t.key: t.value for t in tags or []})
        self.versions[name] = {}
        return self.models[name]

    def get_registered_model(self, name):
        return self._with_latest(self._model(name))

    def search_registered_models(self, filter_string=None, max_results=100, order_by=None,
                                 page_token=None):
        from skiff.search import parser
        from skiff.search.evaluate import filter_registered_models, sort_registered_models
        from skiff.search.paging import page_by_offset

        found = filter_registered_models(self.models.values(),
                                         parser.parse_registered_model_filter(filter_string))
        found = sort_registered_models(found, parser.parse_registered_model_order_by(order_by))
        page, token = page_by_offset(found, max_results, page_token)
        return PagedList([self._with_latest(m) for m in page], token)

    def get_latest_versions(self, name, stages=None):
        wanted = [canonical_stage(s) for s in stages] if stages else list(ALL_STAGES)
        top = {}
        for _number, mv in sorted(self.versions[self._model(name).name].items()):
            top[mv.current_stage] = mv
        return [self._aliased(top[s]) for s in wanted if s in top]

    def create_model_version(self, name, source, run_id=None, tags=None, run_link=None,
                             description=None, model_id=None):
        versions = self.versions[self._model(name).name]
        number = max(versions, default=0) + 1
        now = next(_clock)
        versions[number] = ModelVersion(
            name, str(number), now, now, description, source=source, run_id=run_id,
            tags={t.key: t.value for t in tags or []}, run_link=run_link, model_id=model_id)
        return versions[number]

    def _version(self, name, version) -> ModelVersion:
        found = self.versions[self._model(name).name].get(int(version))
        if found is None:
            raise _missing(f"Model Version (name={name}, version={version})")
        return found

    def get_model_version(self, name, version):
        return self._aliased(self._version(name, version))

    def get_model_version_download_uri(self, name, version):
        return f"memory://{name}/{self._version(name, version).version}"

    def search_model_versions(self, filter_string=None, max_results=10000, order_by=None,
                              page_token=None):
        from skiff.search import parser
        from skiff.search.evaluate import filter_model_versions, sort_model_versions
        from skiff.search.paging import page_by_offset

        every = [self._aliased(mv) for vs in self.versions.values() for mv in vs.values()]
        found = filter_model_versions(every, parser.parse_model_version_filter(filter_string))
        found = sort_model_versions(found, parser.parse_model_version_order_by(order_by))
        page, token = page_by_offset(found, max_results, page_token)
        return PagedList(page, token)

    def transition_model_version_stage(self, name, version, stage, archive_existing_versions):
        mv = self._version(name, version)
        stage = canonical_stage(stage)
        if archive_existing_versions:
            for other in self.versions[name].values():
                if other.current_stage == stage:
                    other.current_stage = STAGE_ARCHIVED
        mv.current_stage = stage
        return mv

    def set_registered_model_alias(self, name, alias, version):
        self._version(name, version)
        self.models[name].aliases[alias] = str(version)

    def get_model_version_by_alias(self, name, alias):
        version = self._model(name).aliases.get(alias)
        if version is None:
            raise _missing(f"Registered model alias {alias}")
        return self.get_model_version(name, version)

    # Not used by the CLI's read-only commands.
    def _unused(self, *args, **kwargs):
        raise NotImplementedError

    update_registered_model = rename_registered_model = delete_registered_model = _unused
    set_registered_model_tag = delete_registered_model_tag = update_model_version = _unused
    delete_model_version = set_model_version_tag = delete_model_version_tag = _unused
    delete_registered_model_alias = _unused


def plugin(store: MemoryRegistryStore) -> types.ModuleType:
    """A throwaway plugin serving ``store`` for ``memreg:`` URIs."""
    from skiff.plugins import hookimpl

    module = types.ModuleType("memory_registry")

    @hookimpl
    def register_registry_stores(register):
        register(SCHEME, lambda uri, tracking_uri: store)

    module.register_registry_stores = register_registry_stores
    return module
