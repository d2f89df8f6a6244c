"""The registry half of ``skiff migrate``: registered models (description, tags, aliases)
and their versions (description, tags, stage, run link), after the runs are copied.

- Models are matched by name; a target model of the same name receives the versions.
- Each copied version carries the tag ``skiff.migrate.sourceVersion``: a second migration
  finds it and only brings description, tags and stage in line (so an interrupted one is
  completed). Version numbers are kept: where the source has gaps (deleted versions) the
  number is used up in the target by creating the version and deleting it at once (the
  registries never hand a number out twice); a tagged version numbered below its tag is
  such a filler left by an interrupt, and is deleted. Where a number cannot be kept (the
  target model already had versions) the new number is reported and aliases follow it.
- ``run_id`` is remapped to the copied run; a source inside the source run's artifacts
  (``runs:/<id>/...`` or the run's artifact location) is rewritten to the copied run's; a
  ``models:/<model_id>`` source (MLflow 3.x logged model) gets the logged model copied too.
- Not carried (the registry API cannot set them): creation/update times, user IDs, and
  statuses other than READY.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from skiff.entities import Param, RunTag
from skiff.entities.registry import STAGE_NONE
from skiff.errors import SkiffException
from skiff_stores_sql.migrate_sources import StoreSource, quoted

VERSION_TAG = "skiff.migrate.sourceVersion"
MODEL_SOURCE_TAG = "skiff.migrate.sourceModelId"
_OWN_TAGS = (VERSION_TAG,)


def _local_path(uri: str) -> str | None:
    parts = urlparse(uri)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return os.path.normpath(parts.path)
    if parts.scheme == "" or (len(parts.scheme) == 1 and uri[1:2] == ":"):
        return os.path.normpath(uri)
    return None


def relative_to(uri: str, root: str) -> str | None:
    """The path of ``uri`` below ``root`` ('' for root itself), or None when outside;
    a plain path and its ``file:`` URI count as the same place."""
    if not uri or not root:
        return None
    path, root_path = _local_path(uri), _local_path(root)
    if path is not None and root_path is not None:
        uri, root = path, root_path
    root = root.rstrip("/")
    if uri == root:
        return ""
    return uri[len(root) + 1:] if uri.startswith(root + "/") else None


class RegistryCopier:
    def __init__(self, migrator, tracking):
        self.m, self.source, self.report = migrator, migrator.source, migrator.report
        self.target, self.tracking_target = migrator.target_registry, migrator.target
        self.run_map, self.experiment_map = tracking.run_map, tracking.experiment_map
        self.model_map: dict[str, str | None] = {}

    def count_versions(self) -> int:
        return sum(len(self.source.model_versions(m.name))
                   for m in self.source.registered_models())

    def run(self) -> None:
        for model in self.source.registered_models():
            self._copy_model(model)

    # -- models ---------------------------------------------------------------------------
    def _copy_model(self, model) -> None:
        try:
            found = self.target.get_registered_model(model.name)
        except SkiffException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            found = None
        if found is None:
            self.target.create_registered_model(
                model.name, [RunTag(k, v) for k, v in model.tags.items()],
                model.description or None)
            self.report.models_created += 1
        else:
            if (model.description or "") != (found.description or ""):
                self.target.update_registered_model(model.name, model.description or "")
            for key, value in model.tags.items():
                if found.tags.get(key) != value:
                    self.target.set_registered_model_tag(model.name, RunTag(key, value))
        numbers = self._copy_versions(model.name)
        current = found.aliases if found is not None else {}
        for alias, version in model.aliases.items():
            mapped = numbers.get(str(version))
            if mapped is not None and current.get(alias) != mapped:
                self.target.set_registered_model_alias(model.name, alias, mapped)

    def _target_versions(self, name) -> list:
        return StoreSource(None, self.target).model_versions(name)

    def _copy_versions(self, name) -> dict[str, str]:
        """Copy the versions of one model; source number -> target number."""
        copies = {}
        for mv in self._target_versions(name):
            copied_from = mv.tags.get(VERSION_TAG)
            if copied_from is None:
                continue
            if copied_from.isdigit() and int(mv.version) < int(copied_from):
                self.target.delete_model_version(name, mv.version)  # an interrupted filler
            else:
                copies[copied_from] = mv
        numbers = {}
        for mv in self.source.model_versions(name):
            done = copies.get(str(mv.version))
            if done is None:
                done = self._create_version(mv)
            else:
                self.report.versions_skipped += 1
            if done is not None:
                self._align(mv, done)
                numbers[str(mv.version)] = done.version
            self.m.advance(name)
        return numbers

    # -- versions -------------------------------------------------------------------------
    def _create_version(self, mv):
        source, run_id, model_id = self._rewritten(mv)
        tags = [RunTag(k, v) for k, v in mv.tags.items() if k not in _OWN_TAGS]
        tags.append(RunTag(VERSION_TAG, str(mv.version)))
        wanted = int(mv.version)
        try:
            while True:
                created = self.target.create_model_version(
                    mv.name, source, run_id, tags, mv.run_link, mv.description, model_id)
                if int(created.version) >= wanted:
                    break
                # A gap in the source (a deleted version): use the number up, then go on.
                self.target.delete_model_version(mv.name, created.version)
        except SkiffException as exc:
            self.report.versions_failed += 1
            self.m.notify(f"Model '{mv.name}' version {mv.version} not copied: {exc.message}")
            return None
        self.report.versions_copied += 1
        if int(created.version) != wanted:
            self.m.notify(f"Model '{mv.name}': version {mv.version} copied as version "
                          f"{created.version} (the number was taken in the target)")
        return created

    def _align(self, mv, done) -> None:
        """Bring a copied version's description, tags and stage in line with the source."""
        if (mv.description or "") != (done.description or ""):
            self.target.update_model_version(mv.name, done.version, mv.description or "")
        for key, value in mv.tags.items():
            if key not in _OWN_TAGS and done.tags.get(key) != value:
                self.target.set_model_version_tag(mv.name, done.version, RunTag(key, value))
        stage = mv.current_stage or STAGE_NONE
        if stage != (done.current_stage or STAGE_NONE):
            self.target.transition_model_version_stage(mv.name, done.version, stage, False)

    def _rewritten(self, mv) -> tuple[str, str | None, str | None]:
        """(source, run_id, model_id) for the target."""
        source, run_id = mv.source or "", mv.run_id or None
        mapped = self.run_map.get(run_id) if run_id else None
        if mapped is not None:
            run_id = mapped[0]
        scheme = urlparse(source).scheme
        if scheme == "runs":
            src_run, _, path = source[len("runs:"):].lstrip("/").partition("/")
            moved = self.run_map.get(src_run)
            if moved is not None:
                source = f"runs:/{moved[0]}/{path}" if path else f"runs:/{moved[0]}"
            return source, run_id, None
        if scheme == "models":
            model_id = source[len("models:"):].lstrip("/")
            if "/" not in model_id and "@" not in model_id:  # models:/<model_id>
                new_id = self._copy_logged_model(model_id)
                if new_id is not None:
                    return f"models:/{new_id}", run_id, new_id
            return source, run_id, None
        if mapped is not None:
            below = relative_to(source, mapped[1])
            if below is not None:
                source = mapped[2].rstrip("/") + (f"/{below}" if below else "")
        return source, run_id, None

    # -- logged models (MLflow 3.x) ---------------------------------------------------------
    def _copy_logged_model(self, model_id: str) -> str | None:
        if model_id not in self.model_map:
            try:
                self.model_map[model_id] = self._logged_model_copy(model_id)
            except SkiffException as exc:
                self.m.notify(f"Logged model {model_id} not copied: {exc.message}")
                self.model_map[model_id] = None
        return self.model_map[model_id]

    def _logged_model_copy(self, model_id: str) -> str | None:
        model = self.source.logged_model(model_id)
        experiment_id = self.experiment_map.get(str(model.experiment_id)) if model else None
        if experiment_id is None:
            return None
        target = self.tracking_target
        found = list(target.search_logged_models(
            [experiment_id], f"tags.`{MODEL_SOURCE_TAG}` = {quoted(model_id)}", max_results=1))
        if found:
            copy = found[0]
        else:
            run = self.run_map.get(model.source_run_id or "")
            tags = [RunTag(k, v) for k, v in model.tags.items()]
            tags.append(RunTag(MODEL_SOURCE_TAG, model_id))
            copy = target.create_logged_model(
                experiment_id, model.name, run[0] if run else None, tags,
                [Param(k, v) for k, v in model.params.items()], model.model_type)
            self.report.logged_models_copied += 1
        if copy.status != model.status:  # new, or interrupted before it was finalized
            self.m.copy_artifacts_of(f"logged model {model_id}", model.artifact_location,
                                     copy.artifact_location)
            target.finalize_logged_model(copy.model_id, model.status)
        return copy.model_id
