"""The model registry store contract.

A plugin registers ``factory(store_uri, tracking_uri) -> RegistryStore`` through
``register_registry_stores``. Method names are MLflow's model-registry ``AbstractStore``.
Versions are strings on the wire and allocated as max+1, never reused. Rules shared by
every implementation (names, aliases, stages, allowed sources) are in
:mod:`skiff.store.registry_rules`; ``skiff.testing.contracts.registry`` is the suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from skiff.entities import ModelVersion, PagedList, RegisteredModel

SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT = 100
SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD = 1000
SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT = 10000
SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD = 200000


class RegistryStore(ABC):
    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None):
        self.store_uri = store_uri
        self.tracking_uri = tracking_uri

    # -- registered models ---------------------------------------------------------------
    @abstractmethod
    def create_registered_model(self, name: str, tags: list | None = None,
                                description: str | None = None) -> RegisteredModel:
        """Duplicate names raise RESOURCE_ALREADY_EXISTS."""

    @abstractmethod
    def update_registered_model(self, name: str, description: str) -> RegisteredModel: ...

    @abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Renames the model and all its versions; the new name must be free."""

    @abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Deletes the model with its versions, tags and aliases, all or nothing."""

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """With ``latest_versions`` (highest version per stage), tags and aliases."""

    @abstractmethod
    def search_registered_models(self, filter_string: str | None = None,
                                 max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
                                 order_by: list | None = None,
                                 page_token: str | None = None) -> PagedList[RegisteredModel]:
        """Default order ``name ASC``."""

    @abstractmethod
    def get_latest_versions(self, name: str, stages: list | None = None) -> list[ModelVersion]:
        """The highest version in each requested stage (all stages when none given)."""

    @abstractmethod
    def set_registered_model_tag(self, name: str, tag) -> None: ...

    @abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    # -- versions -------------------------------------------------------------------------
    @abstractmethod
    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: list | None = None, run_link: str | None = None,
                             description: str | None = None,
                             model_id: str | None = None) -> ModelVersion:
        """Version max+1 of an existing registered model, status READY."""

    @abstractmethod
    def update_model_version(self, name: str, version: str, description: str) -> ModelVersion: ...

    @abstractmethod
    def transition_model_version_stage(self, name: str, version: str, stage: str,
                                       archive_existing_versions: bool) -> ModelVersion:
        """Move to ``stage``; with archive_existing_versions (Staging/Production only),
        other versions in that stage become Archived."""

    @abstractmethod
    def delete_model_version(self, name: str, version: str) -> None:
        """Deletes the version and drops its aliases."""

    @abstractmethod
    def get_model_version(self, name: str, version: str) -> ModelVersion: ...

    @abstractmethod
    def get_model_version_download_uri(self, name: str, version: str) -> str:
        """The artifact location the version's files are stored at."""

    @abstractmethod
    def search_model_versions(self, filter_string: str | None = None,
                              max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
                              order_by: list | None = None,
                              page_token: str | None = None) -> PagedList[ModelVersion]:
        """Default order ``last_updated_timestamp DESC, name ASC, version_number DESC``."""

    @abstractmethod
    def set_model_version_tag(self, name: str, version: str, tag) -> None: ...

    @abstractmethod
    def delete_model_version_tag(self, name: str, version: str, key: str) -> None: ...

    # -- aliases ---------------------------------------------------------------------------
    @abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version`` (moving it if it exists)."""

    @abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    @abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    # -- built on the above ------------------------------------------------------------------
    def _resolve_source(self, source: str):
        """(storage location, run id, model id) behind a model-version source URI.

        Shared by the store plugins; each provides ``_run_artifact_uri(run_id)``,
        ``_logged_model(model_id)`` and ``_version_of_uri_parts(parts)``.
        """
        import urllib.parse

        from skiff.errors import SkiffException
        from skiff.utils.uri import append_to_uri_path

        scheme = urllib.parse.urlparse(source).scheme
        if scheme == "runs":
            run_id, _, path = source[len("runs:"):].lstrip("/").partition("/")
            artifact_uri = self._run_artifact_uri(run_id)
            location = append_to_uri_path(artifact_uri, path) if artifact_uri else source
            return location, run_id or None, None
        if scheme == "models":
            from skiff.models_uri import parse_models_uri

            parts = parse_models_uri(source)
            try:
                if "model_id" in parts:
                    model = self._logged_model(parts["model_id"])
                    location = append_to_uri_path(model.artifact_location, parts["path"])
                    return location, model.source_run_id, model.model_id
                version = self._version_of_uri_parts(parts)
                location = self.get_model_version_download_uri(parts["name"], version)
                return append_to_uri_path(location, parts.get("path") or ""), None, None
            except SkiffException as exc:
                raise SkiffException.invalid_parameter_value(
                    f"Unable to fetch model from model URI source artifact location "
                    f"'{source}'. Error: {exc.message}") from None
        return source, None, None

    def copy_model_version(self, src_mv: ModelVersion, dst_name: str) -> ModelVersion:
        """Register ``src_mv``'s files as a new version of ``dst_name`` (created if
        missing), keeping the lineage (run_id, source)."""
        from skiff.errors import SkiffException

        try:
            self.create_registered_model(dst_name)
        except SkiffException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        source = f"models:/{src_mv.name}/{src_mv.version}"
        return self.create_model_version(
            dst_name, source, src_mv.run_id, list(_tag_objects(src_mv.tags)), src_mv.run_link,
            src_mv.description, src_mv.model_id)


def _tag_objects(tags: dict):
    from skiff.entities import RunTag

    for key, value in tags.items():
        yield RunTag(key, value)
