"""Experiments: ``<root>/<id>/meta.yaml`` and ``tags/``; deleted ones move to ``.trash/``."""

from __future__ import annotations

import os
import random
import time

from skiff.entities import Experiment, LifecycleStage, PagedList, ViewType
from skiff.errors import SkiffException
from skiff.search.paging import page_by_offset
from skiff.utils.uri import append_to_uri_path
from skiff.validation import (
    MAX_ARTIFACT_LOCATION_LENGTH,
    validate_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
    validate_key_name,
    validate_max_results,
)
from skiff_stores_file import _files, _layout
from skiff_stores_file._base import StoreBase, invalid, not_found

SEARCH_MAX_RESULTS_THRESHOLD = 50000
_random = random.SystemRandom()


def _now() -> int:
    return int(time.time() * 1000)


class ExperimentsMixin(StoreBase):
    def _new_experiment_id(self) -> str:
        while True:
            candidate = str(_random.randrange(10**17, 10**18))  # 18 digits, as MLflow
            if self._experiment_dir(candidate) is None:
                return candidate

    def _write_experiment(self, experiment_id: str, name: str, artifact_location: str | None,
                          tags) -> str:
        if not artifact_location:
            artifact_location = append_to_uri_path(self.artifact_root_uri, experiment_id)
        now = _now()
        experiment = Experiment(experiment_id, name, artifact_location,
                                creation_time=now, last_update_time=now)
        directory = os.path.join(self.root, experiment_id)
        os.makedirs(directory, exist_ok=True)
        for tag in tags or []:
            self._write_experiment_tag(directory, tag.key, tag.value)
        self._write_meta(directory, _layout.experiment_meta(experiment))
        return experiment_id

    def _write_experiment_tag(self, directory: str, key: str, value) -> None:
        _files.check_keys_fit([key], "tag", os.path.join(directory, _layout.TAGS))
        value = "" if value is None else str(value)
        _files.atomic_write(os.path.join(directory, _layout.TAGS, key), value, tmp_dir=directory)

    def create_experiment(self, name, artifact_location=None, tags=None) -> str:
        with self._names_locked():
            artifact_location = self._checked_new_experiment(name, artifact_location, tags)
            return self._write_experiment(self._new_experiment_id(), name, artifact_location,
                                          tags)

    def _names_locked(self):
        """Held from "is this name free?" to the write that takes it, so two processes or
        threads creating (or renaming to) one name cannot both succeed."""
        os.makedirs(self.root, exist_ok=True)
        return _files.locked(self.root)

    def _checked_new_experiment(self, name, artifact_location, tags) -> str | None:
        validate_experiment_name(name)
        if artifact_location and len(artifact_location) > MAX_ARTIFACT_LOCATION_LENGTH:
            raise invalid(f"Artifact location exceeds the maximum length of "
                          f"{MAX_ARTIFACT_LOCATION_LENGTH} characters")
        for tag in tags or []:
            validate_experiment_tag(tag.key, tag.value)
        _files.check_keys_fit([tag.key for tag in tags or []], "tag")
        self._check_name_is_free(name)
        return self._resolve_local_uri(artifact_location) if artifact_location else None

    def create_experiment_with_id(self, experiment_id, name, artifact_location=None,
                                  tags=None) -> str:
        """As create_experiment, under a chosen ID (skiff migrate keeps IDs this way)."""
        experiment_id = str(experiment_id)
        validate_experiment_id(experiment_id)
        # Any entry of that name counts as taken: the registry's ``models`` folder too.
        if any(os.path.lexists(os.path.join(parent, experiment_id))
               for parent in (self.root, self.trash)):
            raise SkiffException(f"Experiment ID {experiment_id} is taken",
                                 "RESOURCE_ALREADY_EXISTS")
        with self._names_locked():
            artifact_location = self._checked_new_experiment(name, artifact_location, tags)
            return self._write_experiment(experiment_id, name, artifact_location, tags)

    def _check_name_is_free(self, name: str) -> None:
        existing = self.get_experiment_by_name(name)
        if existing is None:
            return
        if existing.lifecycle_stage == LifecycleStage.DELETED:
            raise SkiffException(
                f"Experiment '{name}' already exists in deleted state. Restore it, or remove "
                f"it for good from the .trash folder of {self.root}, to reuse the name.",
                "RESOURCE_ALREADY_EXISTS",
            )
        raise SkiffException(f"Experiment '{name}' already exists.", "RESOURCE_ALREADY_EXISTS")

    def get_experiment(self, experiment_id) -> Experiment:
        directory = self._require_experiment_dir(experiment_id)
        try:
            return self._load_experiment(directory)
        except _files.CorruptFileError as exc:
            raise SkiffException(f"Experiment {experiment_id} is unreadable: {exc}",
                                 "INVALID_STATE") from None

    def get_experiment_by_name(self, experiment_name) -> Experiment | None:
        for _, directory in self._experiment_dirs():
            experiment = self._experiment_or_none(directory, experiment_name)
            if experiment is not None:
                return experiment
        return None

    def _all_experiments(self, view_type) -> list[Experiment]:
        stages = LifecycleStage.view_type_to_stages(view_type)
        out = []
        for _, directory in self._experiment_dirs():
            experiment = self._experiment_or_none(directory)
            if experiment is not None and experiment.lifecycle_stage in stages:
                out.append(experiment)
        return out

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY, max_results=1000,
                           filter_string=None, order_by=None, page_token=None):
        from skiff.search.evaluate import filter_experiments, sort_experiments
        from skiff.search.parser import parse_experiment_filter, parse_experiment_order_by

        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        comparisons = parse_experiment_filter(filter_string)
        order = parse_experiment_order_by(order_by)
        experiments = filter_experiments(self._all_experiments(view_type), comparisons)
        page, token = page_by_offset(sort_experiments(experiments, order), max_results,
                                     page_token)
        return PagedList(page, token)

    def _active_experiment_dir(self, experiment_id, action: str) -> str:
        directory = self._require_experiment_dir(experiment_id)
        if os.path.dirname(directory) == self.trash:
            raise invalid(f"The experiment {experiment_id} must be in the 'active' state "
                          f"to {action}. Current state is deleted.")
        return directory

    def delete_experiment(self, experiment_id) -> None:
        experiment_id = str(experiment_id)
        if experiment_id == _layout.DEFAULT_EXPERIMENT_ID:
            raise invalid("Cannot delete the default experiment '0', which the file store "
                          "keeps for runs created without an experiment.")
        directory = self._experiment_dir(experiment_id)
        if directory is None or os.path.dirname(directory) == self.trash:
            raise not_found(f"No active experiment with id={experiment_id} exists")
        now = _now()
        with _files.locked(directory):
            meta = dict(_files.read_yaml(os.path.join(directory, _files.META)))
            meta["lifecycle_stage"] = LifecycleStage.DELETED
            meta["last_update_time"] = now
            meta["tags"] = {}  # MLflow writes this key into trashed experiments
            self._set_runs_stage(directory, LifecycleStage.DELETED, now)
            self._write_meta(directory, meta)
        os.makedirs(self.trash, exist_ok=True)
        target = os.path.join(self.trash, experiment_id)
        if os.path.exists(target):
            raise SkiffException(f"Cannot delete experiment {experiment_id}: .trash already "
                                 "holds an experiment with this ID.", "RESOURCE_ALREADY_EXISTS")
        os.rename(directory, target)
        self._forget_experiment(directory)

    def restore_experiment(self, experiment_id) -> None:
        experiment_id = str(experiment_id)
        directory = self._experiment_dir(experiment_id)
        if directory is None or os.path.dirname(directory) != self.trash:
            raise not_found(f"No deleted experiment with id={experiment_id} exists")
        target = os.path.join(self.root, experiment_id)
        if os.path.exists(target):
            raise SkiffException(f"Cannot restore experiment {experiment_id}: an active "
                                 "experiment has the same ID.", "RESOURCE_ALREADY_EXISTS")
        os.rename(directory, target)
        self._forget_experiment(directory)
        with _files.locked(target):
            meta = dict(_files.read_yaml(os.path.join(target, _files.META)))
            meta["lifecycle_stage"] = LifecycleStage.ACTIVE
            meta["last_update_time"] = _now()
            meta.pop("tags", None)
            self._set_runs_stage(target, LifecycleStage.ACTIVE, None)
            self._write_meta(target, meta)

    def _forget_experiment(self, directory: str) -> None:
        prefix = directory + os.sep
        for run_id in [r for r, d in self._run_dirs.items() if d.startswith(prefix)]:
            self._run_dirs.pop(run_id, None)
        self._cache.forget_under(directory)

    def _set_runs_stage(self, exp_dir: str, stage: str, deleted_time: int | None) -> None:
        """Mark every run of an experiment deleted (or active again), as MLflow does."""
        wanted_from = LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED \
            else LifecycleStage.DELETED
        for entry in _files.list_dirs(exp_dir):
            if entry.name in _layout.RESERVED_EXPERIMENT_FOLDERS:
                continue
            if not os.path.isfile(os.path.join(entry.path, _files.META)):
                continue

            def change(meta):
                if (meta.get("lifecycle_stage") or LifecycleStage.ACTIVE) != wanted_from:
                    return
                meta["lifecycle_stage"] = stage
                if deleted_time is None:
                    meta.pop("deleted_time", None)
                else:
                    meta["deleted_time"] = deleted_time

            try:
                self._update_run_meta(entry.path, change)
            except (_files.CorruptFileError, OSError) as exc:
                _files_warning(entry.path, exc)

    def rename_experiment(self, experiment_id, new_name) -> None:
        validate_experiment_name(new_name)
        directory = self._require_experiment_dir(experiment_id)
        if os.path.dirname(directory) == self.trash:
            raise invalid("Cannot rename a non-active experiment.")
        current = self._read_meta(directory)
        if current.get("name") == new_name:
            return
        with self._names_locked():
            self._check_name_is_free(new_name)
            with _files.locked(directory):
                meta = dict(_files.read_yaml(os.path.join(directory, _files.META)))
                meta["name"] = new_name
                meta["last_update_time"] = _now()
                self._write_meta(directory, meta)

    def set_experiment_tag(self, experiment_id, tag) -> None:
        validate_experiment_tag(tag.key, tag.value)
        directory = self._active_experiment_dir(experiment_id, "set tags")
        self._write_experiment_tag(directory, tag.key, tag.value)

    def delete_experiment_tag(self, experiment_id, key) -> None:
        validate_key_name(key, "tag")
        _files.check_keys_fit([key], "tag")
        directory = self._active_experiment_dir(experiment_id, "delete tags")
        try:
            os.remove(os.path.join(directory, _layout.TAGS, key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise not_found(f"No tag with name: {key} in experiment with id "
                            f"{experiment_id}") from None

    def _hard_delete_experiment(self, experiment_id) -> None:
        import shutil

        directory = self._experiment_dir(experiment_id)
        if directory is None or os.path.dirname(directory) != self.trash:
            raise not_found(f"No deleted experiment with id={experiment_id} exists")
        shutil.rmtree(directory)
        self._forget_experiment(directory)


def _files_warning(path: str, exc: Exception) -> None:
    from skiff_stores_file._base import _log

    _log.warning("Could not update run metadata in %s: %s", path, exc)
