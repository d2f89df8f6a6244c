"""The tracking half of ``skiff migrate``: experiments, runs and their artifacts.

Experiments are matched by name (a target experiment of the same name is reused); a new one
keeps its source ID where the target can create experiments under a given ID
(``create_experiment_with_id``: the SQL and file stores) and the ID is free there. Every
copied run carries the tag ``skiff.migrate.sourceRunId``; ``skiff.migrate.complete`` is set
last, so a second migration skips complete runs and redoes half-copied ones.
"""

from __future__ import annotations

import os
import tempfile

from skiff.entities import LifecycleStage, Metric, Param, RunTag, ViewType
from skiff.errors import SkiffException
from skiff_stores_sql.migrate_sources import all_pages

SOURCE_TAG = "skiff.migrate.sourceRunId"
COMPLETE_TAG = "skiff.migrate.complete"
PARENT_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
_OWN_TAGS = (PARENT_TAG, COMPLETE_TAG, SOURCE_TAG, RUN_NAME_TAG)
_PAGE = 1000
_METRIC_BATCH = 1000
_PARAM_BATCH = 100


def chunks(items, size):
    """Lists of up to ``size`` items from any iterable."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ArtifactsUnreachable(Exception):
    """The source's artifacts could not be listed or read."""


def copy_artifact_tree(source_uri, target_uri, source_tracking_uri=None,
                       target_tracking_uri=None) -> int:
    """Copy every file under ``source_uri`` to ``target_uri``; the number of files copied.
    Raises ArtifactsUnreachable when the source cannot be read."""
    if not source_uri or not target_uri or source_uri == target_uri:
        return 0
    from skiff.artifacts.resolve import get_artifact_repository

    try:
        source = get_artifact_repository(source_uri, source_tracking_uri)
        if not source.list_artifacts():
            return 0
    except Exception as exc:  # noqa: BLE001 - any repository error: report, go on
        raise ArtifactsUnreachable(" ".join(str(exc).split())[:300]) from None
    with tempfile.TemporaryDirectory(prefix="skiff-migrate-") as tmp:
        local = source.download_artifacts("", tmp)
        get_artifact_repository(target_uri, target_tracking_uri).log_artifacts(local)
        return sum(len(files) for _, _, files in os.walk(local))


def _id_order(exp):
    """Numeric IDs in numeric order, then any others."""
    text = exp.experiment_id
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


class TrackingCopier:
    """Copies experiments and runs; fills ``run_map`` (source run ID -> (target run ID,
    source artifact URI, target artifact URI)) and ``experiment_map`` for the registry."""

    def __init__(self, migrator):
        self.m = migrator
        self.source, self.target, self.report = migrator.source, migrator.target, migrator.report
        self.run_map: dict[str, tuple[str, str, str]] = {}
        self.experiment_map: dict[str, str] = {}
        self._why_not_kept: dict[str, str] = {}

    def run(self) -> None:
        experiments = sorted(self.source.experiments(), key=_id_order)
        # IDs that can be kept are taken first, so a renumbered experiment never takes the
        # ID another one of the source still wants.
        for exp in experiments:
            found = self._kept_experiment(exp)
            if found is not None:
                self.experiment_map[exp.experiment_id] = found
        for exp in experiments:
            if exp.experiment_id not in self.experiment_map:
                self.experiment_map[exp.experiment_id] = self._renumbered_experiment(exp)
        for exp in experiments:
            self._copy_experiment_runs(exp, self.experiment_map[exp.experiment_id])

    # -- experiments ------------------------------------------------------------------
    def _kept_experiment(self, exp) -> str | None:
        """The target experiment of the same name, or a new one under the source's ID; None
        when neither exists nor can be made."""
        found = self.target.get_experiment_by_name(exp.name)
        if found is not None:
            return found.experiment_id
        if exp.experiment_id == "0" and exp.name == "Default":
            return "0"
        try:
            created = self.target.create_experiment_with_id(
                exp.experiment_id, exp.name, tags=list(exp.tag_objects))
        except SkiffException as exc:
            if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "INVALID_PARAMETER_VALUE",
                                      "NOT_IMPLEMENTED"):
                raise
            if self.target.get_experiment_by_name(exp.name) is not None:
                raise  # the name, not the ID, was taken: a concurrent writer
            self._why_not_kept[exp.experiment_id] = exc.error_code
            return None
        self.report.experiments_created += 1
        return created

    def _renumbered_experiment(self, exp) -> str:
        new_id = self.target.create_experiment(exp.name, tags=list(exp.tag_objects))
        self.report.experiments_created += 1
        why = self._why_not_kept.get(exp.experiment_id)
        if why != "NOT_IMPLEMENTED":  # a target that never keeps IDs: nothing to report
            reason = "taken" if why == "RESOURCE_ALREADY_EXISTS" else "not valid"
            self.report.renumbered.append((exp.name, exp.experiment_id, new_id))
            self.m.notify(f"Experiment '{exp.name}': ID {exp.experiment_id} is {reason} "
                          f"in the target; copied as {new_id}")
        return new_id

    def _existing_copies(self, target_id) -> dict:
        found = all_pages(lambda token: self.target.search_runs(
            [target_id], f"tags.`{SOURCE_TAG}` LIKE '%'", ViewType.ALL, _PAGE, None, token))
        return {run.data.tags[SOURCE_TAG]: run for run in found}

    def _copy_experiment_runs(self, exp, target_id) -> None:
        copied = self._existing_copies(target_id)
        todo = []
        for run in self.source.runs(exp.experiment_id):
            done = copied.get(run.info.run_id)
            if done is not None and done.data.tags.get(COMPLETE_TAG) == "true":
                self.run_map[run.info.run_id] = (done.info.run_id, run.info.artifact_uri,
                                                 done.info.artifact_uri)
                self.report.runs_skipped += 1
                self.m.advance(exp.name)
                continue
            if done is not None:  # half-copied by an interrupted migration
                self._discard(done)
                self.report.runs_redone += 1
            todo.append(run)
        target_exp = self.target.get_experiment(target_id)
        if todo and target_exp.lifecycle_stage == LifecycleStage.DELETED:
            self.target.restore_experiment(target_id)  # deleted again below
        for run in todo:
            created = self._copy_run(run, target_id)
            self.run_map[run.info.run_id] = (created.info.run_id, run.info.artifact_uri,
                                             created.info.artifact_uri)
        for run in todo:
            self._finish_run(run)
            self.report.runs_copied += 1
            self.m.advance(exp.name)
        if exp.lifecycle_stage == LifecycleStage.DELETED:
            if self.target.get_experiment(target_id).lifecycle_stage == LifecycleStage.ACTIVE:
                self.target.delete_experiment(target_id)

    def _discard(self, run) -> None:
        try:
            self.target._hard_delete_run(run.info.run_id)
            return
        except SkiffException:  # stores without gc support fall back to a soft delete
            pass
        # Without hard deletes a leftover stays soft-deleted; un-tag it so it is not reused.
        if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
            self.target.restore_run(run.info.run_id)
        self.target.delete_tag(run.info.run_id, SOURCE_TAG)
        self.target.delete_run(run.info.run_id)

    # -- runs -------------------------------------------------------------------------
    def _copy_run(self, run, target_experiment_id):
        info = run.info
        tags = [RunTag(k, v) for k, v in run.data.tags.items() if k not in _OWN_TAGS]
        tags.append(RunTag(SOURCE_TAG, info.run_id))
        created = self.target.create_run(target_experiment_id, info.user_id, info.start_time,
                                         tags, info.run_name or None)
        new_id = created.info.run_id
        params = [Param(k, v) for k, v in run.data.params.items()]
        for batch in chunks(params, _PARAM_BATCH):
            self.target.log_batch(new_id, [], batch, [])
        for key in run.data.metrics:
            points = (Metric(p.key, p.value, p.timestamp, p.step, p.dataset_name,
                             p.dataset_digest) for p in self.source.metric_history(info.run_id,
                                                                                   key))
            for batch in chunks(points, _METRIC_BATCH):
                self.target.log_batch(new_id, batch, [], [])
                self.report.metric_points += len(batch)
        if run.inputs.dataset_inputs:
            self.target.log_inputs(new_id, run.inputs.dataset_inputs)
        self.m.copy_artifacts_of(f"run {info.run_id}", info.artifact_uri,
                                 created.info.artifact_uri)
        return created

    def _finish_run(self, run) -> None:
        new_id = self.run_map[run.info.run_id][0]
        parent = run.data.tags.get(PARENT_TAG)
        tags = [RunTag(COMPLETE_TAG, "true")]
        if parent:
            mapped = self.run_map.get(parent)
            tags.insert(0, RunTag(PARENT_TAG, mapped[0] if mapped else parent))
        self.target.update_run_info(new_id, run.info.status, run.info.end_time, None)
        self.target.log_batch(new_id, [], [], tags)
        if run.info.lifecycle_stage == LifecycleStage.DELETED:
            self.target.delete_run(new_id)
