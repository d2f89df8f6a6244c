"""``skiff migrate --from URI --to URI``: copy tracking data between any two stores Skiff
can open, through the TrackingStore API only.

What is copied: experiments (by name; a target experiment of the same name is reused),
runs including deleted ones, their tags (parent links remapped to the copied runs), params,
full metric histories, dataset inputs, status/end time, and their artifacts.

Idempotent and resumable: every copied run carries the tag ``skiff.migrate.sourceRunId``;
``skiff.migrate.complete`` is set last. A second migration skips complete runs; a run left
half-copied by an interrupt is deleted in the target and copied again.
"""

from __future__ import annotations

import os
import tempfile

import attrs

from skiff.entities import LifecycleStage, Metric, Param, RunTag, ViewType

SOURCE_TAG = "skiff.migrate.sourceRunId"
COMPLETE_TAG = "skiff.migrate.complete"
PARENT_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
_PAGE = 1000


@attrs.define
class MigrationReport:
    experiments_created: int = 0
    runs_copied: int = 0
    runs_skipped: int = 0
    runs_redone: int = 0
    metric_points: int = 0
    artifact_files: int = 0


def _all_pages(fetch):
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


def _experiments(store):
    return list(_all_pages(lambda token: store.search_experiments(
        view_type=ViewType.ALL, max_results=_PAGE, page_token=token)))


def _runs(store, experiment_id, filter_string=""):
    return list(_all_pages(lambda token: store.search_runs(
        [experiment_id], filter_string, ViewType.ALL, _PAGE, None, token)))


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Migrator:
    def __init__(self, source, target, copy_artifacts: bool = True, progress=None):
        self.source, self.target = source, target
        self.copy_artifacts = copy_artifacts
        self.progress = progress  # callable(advance: int, description: str) or None
        self.report = MigrationReport()

    def run(self) -> MigrationReport:
        plan = []
        for exp in _experiments(self.source):
            target_id = self._target_experiment(exp)
            plan.append((exp, target_id, _runs(self.source, exp.experiment_id)))
        total = sum(len(runs) for _, _, runs in plan)
        if self.progress:
            self.progress(0, f"{total} runs", total=total)
        for exp, target_id, runs in plan:
            copied = self._existing_copies(target_id)
            id_map = {src: run.info.run_id for src, run in copied.items()}
            todo = []
            for run in runs:
                done = copied.get(run.info.run_id)
                if done is not None and done.data.tags.get(COMPLETE_TAG) == "true":
                    self.report.runs_skipped += 1
                    self._advance(exp.name)
                    continue
                if done is not None:  # half-copied by an interrupted migration
                    self._discard(done)
                    self.report.runs_redone += 1
                todo.append(run)
            for run in todo:
                id_map[run.info.run_id] = self._copy_run(run, target_id)
            for run in todo:
                self._finish_run(run, id_map)
                self.report.runs_copied += 1
                self._advance(exp.name)
            if exp.lifecycle_stage == LifecycleStage.DELETED:
                target_exp = self.target.get_experiment(target_id)
                if target_exp.lifecycle_stage == LifecycleStage.ACTIVE:
                    self.target.delete_experiment(target_id)
        return self.report

    def _advance(self, what: str) -> None:
        if self.progress:
            self.progress(1, what)

    # -- experiments ------------------------------------------------------------------
    def _target_experiment(self, exp) -> str:
        found = self.target.get_experiment_by_name(exp.name)
        if found is not None:
            if found.lifecycle_stage == LifecycleStage.DELETED:
                self.target.restore_experiment(found.experiment_id)  # deleted again at the end
            return found.experiment_id
        if exp.experiment_id == "0" and exp.name == "Default":
            return "0"
        tags = list(exp.tag_objects)
        self.report.experiments_created += 1
        return self.target.create_experiment(exp.name, tags=tags)

    def _existing_copies(self, target_id) -> dict:
        found = _runs(self.target, target_id, f"tags.`{SOURCE_TAG}` IS NOT NULL")
        return {run.data.tags[SOURCE_TAG]: run for run in found}

    def _discard(self, run) -> None:
        hard_delete = getattr(self.target, "_hard_delete_run", None)
        try:
            if hard_delete is not None:
                hard_delete(run.info.run_id)
                return
        except Exception:  # noqa: BLE001 - stores without gc support fall back to a soft delete
            pass
        # Without hard deletes a leftover stays soft-deleted; un-tag it so it is not reused.
        if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
            self.target.restore_run(run.info.run_id)
        self.target.delete_tag(run.info.run_id, SOURCE_TAG)
        self.target.delete_run(run.info.run_id)

    # -- runs -------------------------------------------------------------------------
    def _copy_run(self, run, target_experiment_id) -> str:
        info = run.info
        tags = [RunTag(k, v) for k, v in run.data.tags.items()
                if k not in (PARENT_TAG, COMPLETE_TAG, SOURCE_TAG, RUN_NAME_TAG)]
        tags.append(RunTag(SOURCE_TAG, info.run_id))
        created = self.target.create_run(target_experiment_id, info.user_id, info.start_time,
                                         tags, info.run_name or None)
        new_id = created.info.run_id
        params = [Param(k, v) for k, v in run.data.params.items()]
        for chunk in _chunks(params, 100):
            self.target.log_batch(new_id, [], chunk, [])
        for key in run.data.metrics:
            points = list(_all_pages(lambda token, key=key: self.source.get_metric_history(
                info.run_id, key, max_results=25000, page_token=token)))
            points = [Metric(m.key, m.value, m.timestamp, m.step, m.dataset_name,
                             m.dataset_digest) for m in points]
            for chunk in _chunks(points, 1000):
                self.target.log_batch(new_id, chunk, [], [])
            self.report.metric_points += len(points)
        if run.inputs.dataset_inputs:
            self.target.log_inputs(new_id, run.inputs.dataset_inputs)
        if self.copy_artifacts:
            self._copy_artifacts(info.artifact_uri, created.info.artifact_uri)
        return new_id

    def _finish_run(self, run, id_map: dict) -> None:
        new_id = id_map[run.info.run_id]
        parent = run.data.tags.get(PARENT_TAG)
        tags = [RunTag(COMPLETE_TAG, "true")]
        if parent:
            tags.insert(0, RunTag(PARENT_TAG, id_map.get(parent, parent)))
        self.target.update_run_info(new_id, run.info.status, run.info.end_time, None)
        self.target.log_batch(new_id, [], [], tags)
        if run.info.lifecycle_stage == LifecycleStage.DELETED:
            self.target.delete_run(new_id)

    def _copy_artifacts(self, source_uri: str, target_uri: str) -> None:
        if not source_uri or not target_uri or source_uri == target_uri:
            return
        from skiff.artifacts.resolve import get_artifact_repository

        try:
            source = get_artifact_repository(source_uri)
            listing = source.list_artifacts()
        except Exception:  # noqa: BLE001 - no artifact store reachable: nothing to copy
            return
        if not listing:
            return
        with tempfile.TemporaryDirectory(prefix="skiff-migrate-") as tmp:
            local = source.download_artifacts("", tmp)
            get_artifact_repository(target_uri).log_artifacts(local)
            self.report.artifact_files += sum(len(files) for _, _, files in os.walk(local))
