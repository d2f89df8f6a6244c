"""Model versions of the file registry: creation (max+1 under a lock on the model's
directory), stages, tags, tombstone deletion, download URIs and search."""

from __future__ import annotations

import os
import urllib.parse

from skiff.entities import ModelVersion, PagedList
from skiff.entities.registry import (
    ALL_STAGES,
    STAGE_ARCHIVED,
    STAGE_DELETED_INTERNAL,
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    ModelVersionStatus,
    canonical_stage,
)
from skiff.errors import SkiffException
from skiff.store.registry import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
)
from skiff.store.registry_rules import validate_registry_tag
from skiff_stores_file import _files
from skiff_stores_file._registry_io import (
    ALIASES,
    TAGS,
    VERSION_PREFIX,
    list_version_numbers,
    now_ms,
    remove_value_file,
    write_value_file,
)

_PROMPT_TAG = "mlflow.prompt.is_prompt"


def check_max_results(max_results, threshold: int) -> None:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise SkiffException.invalid_parameter_value(
            f"Invalid value for max_results. It must be a positive integer, but got "
            f"{max_results}")
    if max_results > threshold:
        raise SkiffException.invalid_parameter_value(
            f"Invalid value for request parameter max_results. It must be at most "
            f"{threshold}, but got value {max_results}")


def hides_prompts(filter_string: str | None) -> bool:
    """Prompts live in the registry too; like MLflow, searches skip them unless asked."""
    return _PROMPT_TAG not in (filter_string or "")


class VersionsMixin:
    """Needs ``self.files`` (a ModelFiles) and ``self._tracking_stores()``."""

    # -- create -------------------------------------------------------------------------------
    def create_model_version(self, name, source, run_id=None, tags=None, run_link=None,
                             description=None, model_id=None) -> ModelVersion:
        model_dir = self.files.existing_model_dir(name)
        tags = list(tags or [])
        for tag in tags:
            validate_registry_tag(tag.key, tag.value)
        _files.check_keys_fit([tag.key for tag in tags], "tag")
        if not isinstance(source, str) or not source:
            raise SkiffException.invalid_parameter_value("Model version source cannot be empty.")
        storage_location, source_run_id, source_model_id = self._resolve_source(source)
        model_id = model_id or source_model_id
        if not run_id and model_id:
            run_id = source_run_id or self._logged_model_run_id(model_id)
        run_id = run_id or source_run_id
        created = now_ms()
        with _files.locked(model_dir):
            number = max(list_version_numbers(model_dir), default=0) + 1
            while True:
                version_dir = os.path.join(model_dir, f"{VERSION_PREFIX}{number}")
                try:
                    os.mkdir(version_dir)  # exclusive even against writers without the lock
                    break
                except FileExistsError:
                    number += 1
            meta = {
                "_dir": version_dir, "version": number, "creation_timestamp": created,
                "last_updated_timestamp": created, "current_stage": STAGE_NONE,
                "description": description, "source": source, "run_id": run_id,
                "run_link": run_link, "status": ModelVersionStatus.READY,
                "storage_location": storage_location, "model_id": model_id,
            }
            for tag in tags:
                write_value_file(os.path.join(version_dir, TAGS), tag.key, str(tag.value))
            self.files.write_version_meta(meta)  # last: readers skip versions without it
        self.files.touch_model(model_dir, created)
        return self.files.model_version(meta)

    def _version_of_uri_parts(self, parts: dict) -> str:
        name = parts["name"]
        if "version" in parts:
            return parts["version"]
        if "alias" in parts:
            return self.get_model_version_by_alias(name, parts["alias"]).version
        stages = [parts["stage"]] if parts.get("stage") else None
        latest = self.get_latest_versions(name, stages)
        if not latest:
            raise SkiffException(f"No versions of model {name} found in {stages or 'any stage'}",
                                 "RESOURCE_DOES_NOT_EXIST")
        return str(max(int(mv.version) for mv in latest))

    def _run_artifact_uri(self, run_id: str) -> str | None:
        for store in self._tracking_stores():
            try:
                return store.get_run(run_id).info.artifact_uri
            except SkiffException:
                continue
        return None

    def _logged_model(self, model_id: str):
        error = None
        for store in self._tracking_stores():
            try:
                return store.get_logged_model(model_id)
            except SkiffException as exc:
                error = exc
        raise error or SkiffException(f"Logged model {model_id} not found",
                                      "RESOURCE_DOES_NOT_EXIST")

    def _logged_model_run_id(self, model_id: str) -> str | None:
        try:
            return self._logged_model(model_id).source_run_id
        except SkiffException:
            return None

    # -- read / update ----------------------------------------------------------------------------
    def get_model_version(self, name, version) -> ModelVersion:
        return self.files.model_version(self.files.version_meta(name, version))

    def update_model_version(self, name, version, description) -> ModelVersion:
        meta = self._update_version(name, version, description=description)
        return self.files.model_version(meta)

    def _update_version(self, name, version, **changes) -> dict:
        model_dir = self.files.existing_model_dir(name)
        with _files.locked(model_dir):
            meta = self.files.version_meta(name, version)
            meta.update(changes, last_updated_timestamp=now_ms())
            self.files.write_version_meta(meta)
        return meta

    def transition_model_version_stage(self, name, version, stage,
                                       archive_existing_versions) -> ModelVersion:
        stage = canonical_stage(stage)
        if archive_existing_versions and stage not in (STAGE_STAGING, STAGE_PRODUCTION):
            raise SkiffException.invalid_parameter_value(
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are "
                f"{STAGE_STAGING}, {STAGE_PRODUCTION}")
        model_dir = self.files.existing_model_dir(name)
        when = now_ms()
        with _files.locked(model_dir):
            meta = self.files.version_meta(name, version)
            if archive_existing_versions:
                for other in self.files.version_metas(model_dir):
                    if other["version"] != meta["version"] and other.get(
                            "current_stage") == stage:
                        other.update(current_stage=STAGE_ARCHIVED, last_updated_timestamp=when)
                        self.files.write_version_meta(other)
            meta.update(current_stage=stage, last_updated_timestamp=when)
            self.files.write_version_meta(meta)
        self.files.touch_model(model_dir, when)
        return self.files.model_version(meta)

    def delete_model_version(self, name, version) -> None:
        model_dir = self.files.existing_model_dir(name)
        when = now_ms()
        with _files.locked(model_dir):
            meta = self.files.version_meta(name, version)
            # A tombstone, as MLflow keeps it: the number is never handed out again.
            meta.update(current_stage=STAGE_DELETED_INTERNAL, last_updated_timestamp=when)
            self.files.write_version_meta(meta)
            for alias, target in self.files.aliases(model_dir).items():
                if target == str(meta["version"]):
                    remove_value_file(os.path.join(model_dir, ALIASES), alias)
        self.files.touch_model(model_dir, when)

    def get_model_version_download_uri(self, name, version) -> str:
        meta = self.files.version_meta(name, version)
        location = meta.get("storage_location") or meta.get("source")
        if urllib.parse.urlparse(location or "").scheme in ("runs", "models"):
            # Written by a client that kept the URI (MLflow 3 does): resolve it now.
            try:
                location = self._resolve_source(location)[0]
            except SkiffException:
                pass
        return location

    def get_latest_versions(self, name, stages=None) -> list[ModelVersion]:
        model_dir = self.files.existing_model_dir(name)
        wanted = [canonical_stage(s) for s in stages] if stages else list(ALL_STAGES)
        latest: dict[str, dict] = {}
        for meta in self.files.version_metas(model_dir):
            stage = meta.get("current_stage") or STAGE_NONE
            if stage in wanted:
                latest[stage] = meta  # version_metas is ascending
        aliases = self.files.aliases(model_dir)
        return [self.files.model_version(latest[s], aliases) for s in dict.fromkeys(wanted)
                if s in latest]

    # -- tags --------------------------------------------------------------------------------------
    def set_model_version_tag(self, name, version, tag) -> None:
        validate_registry_tag(tag.key, tag.value)
        meta = self.files.version_meta(name, version)
        value = "" if tag.value is None else str(tag.value)
        write_value_file(os.path.join(meta["_dir"], TAGS), tag.key, value)
        self.files.touch_model(os.path.dirname(meta["_dir"]))

    def delete_model_version_tag(self, name, version, key) -> None:
        validate_registry_tag(key, None)
        meta = self.files.version_meta(name, version)
        if remove_value_file(os.path.join(meta["_dir"], TAGS), key):
            self.files.touch_model(os.path.dirname(meta["_dir"]))

    # -- search ------------------------------------------------------------------------------------
    def search_model_versions(self, filter_string=None,
                              max_results=SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
                              order_by=None, page_token=None) -> PagedList[ModelVersion]:
        from skiff.search import evaluate, paging, parser

        check_max_results(max_results, SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD)
        comparisons = parser.parse_model_version_filter(filter_string)
        order_bys = parser.parse_model_version_order_by(order_by)
        paging.offset_from_token(page_token)  # a bad token fails before any reading
        names = self._names_for(comparisons)
        versions = []
        for name in names:
            model_dir = os.path.join(self.files.models_root, name)
            try:
                aliases = self.files.aliases(model_dir)
                metas = self.files.version_metas(model_dir)
            except FileNotFoundError:
                continue
            versions.extend(self.files.model_version(m, aliases) for m in metas
                            if m.get("current_stage") != STAGE_DELETED_INTERNAL)
        if hides_prompts(filter_string):
            versions = [v for v in versions if v.tags.get(_PROMPT_TAG) != "true"]
        versions = evaluate.filter_model_versions(versions, comparisons)
        versions = evaluate.sort_model_versions(versions, order_bys)
        page, token = paging.page_by_offset(versions, max_results, page_token)
        return PagedList(page, token)

    def _names_for(self, comparisons) -> list[str]:
        """Only the named models' directories when the filter pins ``name =``."""
        for comparison in comparisons:
            if (comparison.entity == "attribute" and comparison.key == "name"
                    and comparison.comparator == "=" and isinstance(comparison.value, str)):
                name = comparison.value
                ok = "/" not in name and not name.startswith(".") and name
                path = os.path.join(self.files.models_root, name)
                return [name] if ok and os.path.isfile(os.path.join(path, _files.META)) else []
        return self.files.model_names()
