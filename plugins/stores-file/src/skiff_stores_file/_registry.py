"""FileRegistryStore: MLflow's file model registry (``<root>/models``), readable and
writable by MLflow's own FileStore. Versions are in ``_registry_versions``, the files in
``_registry_io``."""

from __future__ import annotations

import os

from skiff.entities import ModelVersion, PagedList, RegisteredModel
from skiff.errors import SkiffException
from skiff.store.registry import (
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    RegistryStore,
)
from skiff.store.registry_rules import validate_alias, validate_registry_tag
from skiff.utils.uri import is_local_uri, resolve_store_path
from skiff_stores_file import _files
from skiff_stores_file._registry_io import (
    ALIASES,
    TAGS,
    ModelFiles,
    now_ms,
    remove_tree,
    remove_value_file,
    write_value_file,
)
from skiff_stores_file._registry_versions import (
    VersionsMixin,
    check_max_results,
    hides_prompts,
)

DEFAULT_ROOT = "./mlruns"
_PROMPT_TAG = "mlflow.prompt.is_prompt"


class FileRegistryStore(VersionsMixin, RegistryStore):
    """Registered models, versions, tags and aliases under ``<root>/models``."""

    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None):
        super().__init__(store_uri, tracking_uri)
        self.root = resolve_store_path(store_uri or DEFAULT_ROOT)
        self.root_directory = self.root  # MLflow's attribute name
        self.files = ModelFiles(self.root)
        os.makedirs(self.files.models_root, exist_ok=True)
        self._same_root_tracking = None

    def __repr__(self) -> str:
        return f"FileRegistryStore({self.root!r})"

    def _tracking_stores(self):
        """Where runs and logged models named by sources are looked up: the tracking store
        at this root first, then the tracking URI's store when that is somewhere else."""
        uri = self.tracking_uri
        same_root = bool(uri) and is_local_uri(uri) and resolve_store_path(uri) == self.root
        # Opening a tracking store creates experiment 0; only do it where tracking data is
        # (or is meant to be), not in a registry-only folder.
        if same_root or os.path.isfile(os.path.join(self.root, "0", _files.META)):
            if self._same_root_tracking is None:
                from skiff_stores_file.store import FileTrackingStore

                self._same_root_tracking = FileTrackingStore(self.root)
            yield self._same_root_tracking
        if uri and not same_root:
            from skiff.tracking._stores import get_tracking_store

            try:
                store = get_tracking_store(uri)
            except SkiffException:
                return
            yield store

    # -- registered models ---------------------------------------------------------------------
    def create_registered_model(self, name, tags=None, description=None) -> RegisteredModel:
        model_dir = self.files.model_dir(name)
        tags = list(tags or [])
        for tag in tags:
            validate_registry_tag(tag.key, tag.value)
        _files.check_keys_fit([tag.key for tag in tags], "tag")
        exists_error = SkiffException(f"Registered Model (name={name}) already exists.",
                                      "RESOURCE_ALREADY_EXISTS")
        with self.files.names_locked():  # a racing creator must not write its tags here
            if os.path.isfile(os.path.join(model_dir, _files.META)):
                raise exists_error
            os.makedirs(model_dir, exist_ok=True)
            for tag in tags:
                write_value_file(os.path.join(model_dir, TAGS), tag.key, str(tag.value))
            created = now_ms()
            meta = {"creation_timestamp": created, "last_updated_timestamp": created,
                    "description": description}
            # The meta.yaml appears last and only once (other tools may write here too).
            if not self.files.write_model_meta(model_dir, meta, exclusive=True):
                raise exists_error
        return self.files.registered_model(model_dir, [])

    def get_registered_model(self, name) -> RegisteredModel:
        model_dir = self.files.existing_model_dir(name)
        return self.files.registered_model(model_dir, self.get_latest_versions(name))

    def update_registered_model(self, name, description) -> RegisteredModel:
        model_dir = self.files.existing_model_dir(name)
        self.files.touch_model(model_dir, description=description)
        return self.get_registered_model(name)

    def rename_registered_model(self, name, new_name) -> RegisteredModel:
        new_dir = self.files.model_dir(new_name)
        with self.files.names_locked():  # one rename to a name wins; a delete waits
            model_dir = self.files.existing_model_dir(name)
            if os.path.exists(new_dir):
                raise SkiffException(f"Registered Model (name={new_name}) already exists.",
                                     "RESOURCE_ALREADY_EXISTS")
            # One rename moves versions, tags and aliases together (MLflow copies the
            # versions and loses the rest). The names inside meta.yaml files follow; the
            # directory name is what readers trust if that is cut short.
            with _files.locked(model_dir):  # lets versions being created finish first
                os.rename(model_dir, new_dir)
        when = now_ms()
        with _files.locked(new_dir):
            for meta in self.files.version_metas(new_dir):
                meta["last_updated_timestamp"] = when
                self.files.write_version_meta(meta)
        self.files.touch_model(new_dir, when)
        return self.get_registered_model(new_name)

    def delete_registered_model(self, name) -> None:
        with self.files.names_locked():
            model_dir = self.files.existing_model_dir(name)
            with _files.locked(model_dir):  # lets versions being created finish first
                remove_tree(model_dir)

    def search_registered_models(self, filter_string=None,
                                 max_results=SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
                                 order_by=None, page_token=None) -> PagedList[RegisteredModel]:
        from skiff.search import evaluate, paging, parser

        check_max_results(max_results, SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD)
        comparisons = parser.parse_registered_model_filter(filter_string)
        order_bys = parser.parse_registered_model_order_by(order_by)
        paging.offset_from_token(page_token)
        models = []
        for name in self._names_for(comparisons):
            model_dir = os.path.join(self.files.models_root, name)
            try:
                # Latest versions only for the page returned; the rest need none.
                models.append(self.files.registered_model(model_dir, []))
            except FileNotFoundError:
                continue  # deleted while listing
        if hides_prompts(filter_string):
            models = [m for m in models if m.tags.get(_PROMPT_TAG) != "true"]
        models = evaluate.filter_registered_models(models, comparisons)
        models = evaluate.sort_registered_models(models, order_bys)
        page, token = paging.page_by_offset(models, max_results, page_token)
        for model in page:
            try:
                model.latest_versions = self.get_latest_versions(model.name)
            except SkiffException:
                model.latest_versions = []
        return PagedList(page, token)

    # -- registered model tags -----------------------------------------------------------------
    def set_registered_model_tag(self, name, tag) -> None:
        validate_registry_tag(tag.key, tag.value)
        model_dir = self.files.existing_model_dir(name)
        value = "" if tag.value is None else str(tag.value)
        write_value_file(os.path.join(model_dir, TAGS), tag.key, value)
        self.files.touch_model(model_dir)

    def delete_registered_model_tag(self, name, key) -> None:
        validate_registry_tag(key, None)
        model_dir = self.files.existing_model_dir(name)
        if remove_value_file(os.path.join(model_dir, TAGS), key):
            self.files.touch_model(model_dir)

    # -- aliases -----------------------------------------------------------------------------------
    def set_registered_model_alias(self, name, alias, version) -> None:
        validate_alias(alias)
        model_dir = self.files.existing_model_dir(name)
        with _files.locked(model_dir):
            meta = self.files.version_meta(name, version)
            write_value_file(os.path.join(model_dir, ALIASES), alias, str(meta["version"]))
        self.files.touch_model(model_dir)

    def delete_registered_model_alias(self, name, alias) -> None:
        validate_alias(alias)
        model_dir = self.files.existing_model_dir(name)
        if remove_value_file(os.path.join(model_dir, ALIASES), alias):
            self.files.touch_model(model_dir)

    def get_model_version_by_alias(self, name, alias) -> ModelVersion:
        model_dir = self.files.existing_model_dir(name)
        if isinstance(alias, str) and alias.lower() == "latest":
            latest = self.get_latest_versions(name)
            if not latest:
                raise SkiffException(f"Registered model {name} has no versions.",
                                     "RESOURCE_DOES_NOT_EXIST")
            return self.get_model_version(name, max(int(mv.version) for mv in latest))
        validate_alias(alias)
        version = self.files.aliases(model_dir).get(alias)
        if version is None:
            raise SkiffException(f"Registered model alias {alias} not found.",
                                 "RESOURCE_DOES_NOT_EXIST")
        return self.get_model_version(name, version)
