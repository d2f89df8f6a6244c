"""``skiff migrate --from URI --to URI``: copy everything between any two stores Skiff can
open, and from an MLflow SQL database read directly.

What is copied: experiments (by name, keeping their IDs where the target allows), runs
including deleted ones, their tags (parent links remapped to the copied runs), params, full
metric histories, dataset inputs, status/end time and artifacts (``migrate_tracking``);
then the model registry: models with description, tags and aliases, versions with
description, tags, stage and run link, and the MLflow 3.x logged models versions point at
(``migrate_registry``). Sources: ``migrate_sources`` and ``mlflow_sql_source``.

Idempotent and resumable: copies are found again through ``skiff.migrate.*`` tags, so a
second migration copies nothing and one after an interrupt finishes the job.
"""

from __future__ import annotations

import attrs

from skiff_stores_sql.migrate_registry import VERSION_TAG, RegistryCopier
from skiff_stores_sql.migrate_sources import StoreSource, open_source, open_target
from skiff_stores_sql.migrate_tracking import (
    COMPLETE_TAG,
    SOURCE_TAG,
    ArtifactsUnreachable,
    TrackingCopier,
    copy_artifact_tree,
)

__all__ = ["COMPLETE_TAG", "SOURCE_TAG", "VERSION_TAG", "MigrationReport", "Migrator",
           "migrate_uris"]

_NAMED_FAILURES = 5  # artifact failures named one by one; the rest are only counted


@attrs.define
class MigrationReport:
    experiments_created: int = 0
    renumbered: list = attrs.field(factory=list)  # (name, source ID, target ID)
    runs_copied: int = 0
    runs_skipped: int = 0
    runs_redone: int = 0
    metric_points: int = 0
    artifact_files: int = 0
    models_created: int = 0
    versions_copied: int = 0
    versions_skipped: int = 0
    versions_failed: int = 0
    logged_models_copied: int = 0
    artifact_failures: int = 0

    def summary(self) -> str:
        return (
            f"Copied {self.runs_copied} runs ({self.metric_points} metric points, "
            f"{self.artifact_files} artifact files), skipped {self.runs_skipped} already "
            f"copied, redid {self.runs_redone} interrupted; created "
            f"{self.experiments_created} experiments. Registry: created "
            f"{self.models_created} models, copied {self.versions_copied} versions, skipped "
            f"{self.versions_skipped} already copied"
            + (f", {self.versions_failed} failed" if self.versions_failed else "") + "."
            + (f" Artifacts of {self.artifact_failures} runs or models could not be read."
               if self.artifact_failures else "")
        )


class Migrator:
    """Copy ``source`` into the ``target`` tracking store (and ``target_registry``).

    ``source`` is a tracking store or a migration source (see ``migrate_sources``);
    ``progress(advance, description, total=None)`` and ``notify(line)`` are optional
    callbacks for a progress bar and for messages about what could not be kept as it was.
    """

    def __init__(self, source, target, copy_artifacts: bool = True, progress=None, *,
                 target_registry=None, notify=None, target_uri: str | None = None):
        if not hasattr(source, "experiments"):
            source = StoreSource(source)
        self.source, self.target, self.target_registry = source, target, target_registry
        self.target_uri = target_uri or getattr(target, "store_uri", None)
        self.copy_artifacts = copy_artifacts
        self.progress, self._notify = progress, notify
        self.report = MigrationReport()

    def run(self) -> MigrationReport:
        tracking = TrackingCopier(self)
        registry = None
        if self.target_registry is not None and getattr(self.source, "has_registry", False):
            registry = RegistryCopier(self, tracking)
        for line in getattr(self.source, "notices", list)():
            self.notify(line)
        if self.progress:
            total = self.source.count_runs() + (registry.count_versions() if registry else 0)
            self.progress(0, "runs", total=total)
        tracking.run()
        if registry is not None:
            registry.run()
        return self.report

    def advance(self, what: str) -> None:
        if self.progress:
            self.progress(1, what)

    def copy_artifacts_of(self, what: str, source_uri: str, target_uri: str) -> None:
        """Copy one artifact tree (unless artifacts are off); failures are reported, the
        first few by name, and the migration goes on."""
        if not self.copy_artifacts:
            return
        try:
            self.report.artifact_files += copy_artifact_tree(
                self.source.resolve_artifact_uri(source_uri), target_uri, self.source.uri,
                self.target_uri)
        except ArtifactsUnreachable as exc:
            self.report.artifact_failures += 1
            if self.report.artifact_failures <= _NAMED_FAILURES:
                self.notify(f"Artifacts of {what} not copied: {exc}")

    def notify(self, line: str) -> None:
        if self._notify:
            self._notify(line)


def migrate_uris(source_uri: str, target_uri: str, copy_artifacts: bool = True,
                 progress=None, notify=None,
                 source_artifacts_destination: str | None = None) -> MigrationReport:
    """Open both URIs and migrate; what ``skiff migrate`` runs."""
    source = open_source(source_uri, source_artifacts_destination)
    try:
        target, target_registry = open_target(target_uri)
        return Migrator(source, target, copy_artifacts, progress, target_registry=target_registry,
                        notify=notify, target_uri=target_uri).run()
    finally:
        source.close()
