"""Runs: create, read, update, lifecycle, tags, inputs/outputs, search and gc."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from skiff.entities import (
    LifecycleStage,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff.search.parser import parse_run_filter, parse_run_order_by
from skiff.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_THRESHOLD
from skiff.utils.uri import append_to_uri_path
from skiff.validation import (
    validate_dataset_input,
    validate_max_results,
    validate_run_id,
    validate_tag,
)
from skiff_stores_sql import _dialect, _latest_metrics_doc, _params_tags, _search
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import (
    experiment_id_int,
    gc_paused,
    invalid,
    not_found,
    now_ms,
)
from skiff_stores_sql._run_loading import (
    RunPage,
    chunks,
    run_info_from_row,
    runs_from_rows,
)
from skiff_stores_sql._streamed_rows import build_from_rows
from skiff_stores_sql.names import generate_name

RUN_NAME_TAG = "mlflow.runName"
# PostgreSQL takes at most 65,535 bound parameters a statement; far more experiments than
# anyone searches at once.
MAX_SEARCH_EXPERIMENTS = 10_000


def _status_name(status) -> str:
    if isinstance(status, str) and not status.isdigit():
        return RunStatus.to_string(RunStatus.from_string(status))
    return RunStatus.to_string(int(status))


class RunsMixin:
    # -- helpers -----------------------------------------------------------------------
    def _run_row(self, conn, run_id, lock: bool = False):
        """The run's row; with ``lock`` held against other writers until the transaction
        ends (a write of params, tags or metrics: ``_params_tags``, ``_latest_metrics_doc``)."""
        if lock:
            row = _params_tags.lock_run(conn, run_id)
        else:
            runs = t.runs
            row = conn.execute(sa.select(runs).where(runs.c.run_uuid == str(run_id))).first()
        if row is None:
            raise not_found(f"Run with id={run_id} not found")
        return row

    def _active_run_row(self, conn, run_id, lock: bool = False):
        row = self._run_row(conn, run_id, lock)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise invalid(
                f"The run {run_id} must be in the 'active' state. Current state is "
                f"{row.lifecycle_stage}."
            )
        return row

    # -- create / read / update ---------------------------------------------------------
    def create_run(self, experiment_id, user_id, start_time, tags, run_name) -> Run:
        tags = [RunTag(tag.key, validate_tag(tag.key, tag.value)) for tag in (tags or [])]
        name_tags = [tag.value for tag in tags if tag.key == RUN_NAME_TAG]
        if run_name and name_tags and name_tags[-1] != run_name:
            raise invalid(
                f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{name_tags[-1]}')."
            )
        name = run_name or (name_tags[-1] if name_tags else None) or generate_name()
        tag_values = {tag.key: tag.value for tag in tags}
        tag_values[RUN_NAME_TAG] = name
        experiment_id = "0" if experiment_id is None else experiment_id
        start_time = now_ms() if start_time is None else int(start_time)
        runs = t.runs

        def create(conn):
            exp = self._experiment_row(conn, experiment_id)
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise invalid(
                    f"Could not create run under non-active experiment with id {experiment_id}."
                )
            run_id = uuid.uuid4().hex
            row = {
                "run_uuid": run_id, "experiment_id": exp.experiment_id, "name": name,
                "user_id": user_id or "", "status": "RUNNING", "start_time": start_time,
                "end_time": None, "lifecycle_stage": LifecycleStage.ACTIVE,
                "artifact_uri": append_to_uri_path(exp.artifact_location or "", run_id,
                                                   "artifacts"),
                "deleted_time": None, _params_tags.COLUMN: _params_tags.encode({}, tag_values),
                _latest_metrics_doc.COLUMN: _latest_metrics_doc.EMPTY,
            }
            conn.execute(runs.insert().values(**row))
            conn.execute(t.tags.insert(), [
                {"run_uuid": run_id, "key": k, "value": v} for k, v in tag_values.items()
            ])
            return row

        row = self._write(create)
        info = RunInfo(
            run_id=row["run_uuid"], experiment_id=str(row["experiment_id"]),
            user_id=row["user_id"], status="RUNNING", start_time=start_time, end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE, artifact_uri=row["artifact_uri"],
            run_name=name,
        )
        return Run(info, RunData(tag_objs=[RunTag(k, v) for k, v in tag_values.items()]))

    def get_run(self, run_id) -> Run:
        return self._read(lambda conn: runs_from_rows(conn, [self._run_row(conn, run_id)])[0])

    def update_run_info(self, run_id, run_status, end_time, run_name) -> RunInfo:
        runs = t.runs
        values = {}
        if run_status is not None:
            values["status"] = _status_name(run_status)
        if end_time is not None:
            values["end_time"] = int(end_time)
        if run_name:
            values["name"] = run_name

        def update(conn):
            row = self._active_run_row(conn, run_id, lock=bool(run_name))
            if values:
                conn.execute(runs.update().where(runs.c.run_uuid == row.run_uuid).values(**values))
            if run_name:
                _dialect.upsert(conn, t.tags, [
                    {"run_uuid": row.run_uuid, "key": RUN_NAME_TAG, "value": run_name}
                ], ["run_uuid", "key"], ["value"])
                _params_tags.rewrite(conn, row, tags={RUN_NAME_TAG: run_name})
            return run_info_from_row(self._run_row(conn, run_id))

        return self._write(update)

    def _set_run_stage(self, run_id, stage: str) -> None:
        runs = t.runs

        def update(conn):
            row = self._run_row(conn, run_id)
            conn.execute(runs.update().where(runs.c.run_uuid == row.run_uuid).values(
                lifecycle_stage=stage,
                deleted_time=now_ms() if stage == LifecycleStage.DELETED else None,
            ))

        self._write(update)

    def delete_run(self, run_id) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def delete_tag(self, run_id, key) -> None:
        tags = t.tags

        def delete(conn):
            row = self._active_run_row(conn, run_id, lock=True)
            done = conn.execute(tags.delete().where(tags.c.run_uuid == row.run_uuid,
                                                    tags.c.key == key))
            if done.rowcount == 0:
                raise not_found(f"No tag with name: {key} in run with id {run_id}")
            _params_tags.rewrite(conn, row, deleted_tags=(key,))

        self._write(delete)

    # -- inputs and outputs ---------------------------------------------------------------
    def log_inputs(self, run_id, datasets=None, models=None) -> None:
        datasets = list(datasets or [])
        models = list(models or [])
        for dataset_input in datasets:
            validate_dataset_input(dataset_input)
        if not datasets and not models:
            self._read(lambda conn: self._active_run_row(conn, run_id))
            return
        ds, di, dit = t.datasets, t.dataset_inputs, t.dataset_input_tags

        def log(conn):
            run = self._active_run_row(conn, run_id)
            for dataset_input in datasets:
                d = dataset_input.dataset
                _dialect.insert_ignore(conn, ds, [{
                    "dataset_uuid": uuid.uuid4().hex, "experiment_id": run.experiment_id,
                    "name": d.name, "digest": d.digest, "source_type": d.source_type,
                    "source": d.source, "schema": d.schema, "profile": d.profile,
                }], ["experiment_id", "name", "digest"])
                dataset_uuid = conn.execute(sa.select(ds.c.dataset_uuid).where(
                    ds.c.experiment_id == run.experiment_id, ds.c.name == d.name,
                    ds.c.digest == d.digest)).scalar_one()
                _dialect.insert_ignore(conn, di, [
                    {"run_uuid": run.run_uuid, "dataset_uuid": dataset_uuid}
                ], ["run_uuid", "dataset_uuid"])
                _dialect.insert_ignore(conn, dit, [
                    {"run_uuid": run.run_uuid, "dataset_uuid": dataset_uuid, "key": tag.key,
                     "value": tag.value}
                    for tag in dataset_input.tags
                ], ["run_uuid", "dataset_uuid", "key"])
            _dialect.insert_ignore(conn, t.run_model_links, [
                {"run_uuid": run.run_uuid, "model_id": m.model_id, "direction": "input",
                 "step": 0}
                for m in models
            ], ["run_uuid", "model_id", "direction"])

        self._write(log)

    def log_outputs(self, run_id, models) -> None:
        models = list(models or [])

        def log(conn):
            run = self._active_run_row(conn, run_id)
            _dialect.upsert(conn, t.run_model_links, [
                {"run_uuid": run.run_uuid, "model_id": m.model_id, "direction": "output",
                 "step": int(m.step or 0)}
                for m in models
            ], ["run_uuid", "model_id", "direction"], ["step"])

        self._write(log)

    # -- search ---------------------------------------------------------------------------
    def search_runs(self, experiment_ids, filter_string="", run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=SEARCH_MAX_RESULTS_DEFAULT, order_by=None,
                    page_token=None) -> PagedList[Run]:
        return self._search_runs(experiment_ids, filter_string, run_view_type, max_results,
                                 order_by, page_token, RunPage)

    def search_runs_with_keys(self, experiment_ids, data_keys, filter_string="",
                              run_view_type=ViewType.ACTIVE_ONLY,
                              max_results=SEARCH_MAX_RESULTS_DEFAULT, order_by=None,
                              page_token=None) -> PagedList[Run]:
        return self._search_runs(experiment_ids, filter_string, run_view_type, max_results,
                                 order_by, page_token, lambda: RunPage(data_keys=data_keys))

    def search_runs_as_dicts(self, experiment_ids, filter_string="",
                             run_view_type=ViewType.ACTIVE_ONLY,
                             max_results=SEARCH_MAX_RESULTS_DEFAULT, order_by=None,
                             page_token=None) -> PagedList[dict]:
        return self._search_runs(experiment_ids, filter_string, run_view_type, max_results,
                                 order_by, page_token, lambda: RunPage(as_dicts=True))

    def _search_runs(self, experiment_ids, filter_string, run_view_type, max_results,
                     order_by, page_token, make_page) -> PagedList:
        """One page; ``make_page()`` (a ``RunPage``) makes its items from the rows."""
        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        stages = LifecycleStage.view_type_to_stages(run_view_type)
        comparisons = parse_run_filter(filter_string)
        orders = parse_run_order_by(order_by)
        numbers = sorted({n for n in (experiment_id_int(e) for e in experiment_ids or [])
                          if n is not None})
        if len(numbers) > MAX_SEARCH_EXPERIMENTS:  # each is a bound parameter
            raise invalid(f"A run search may span at most {MAX_SEARCH_EXPERIMENTS} "
                          f"experiments, got {len(numbers)}")
        stmt, keys = _search.compile_run_search(numbers, stages, comparisons, orders)
        stmt, n_keys = _search.paged(stmt, keys, page_token, max_results)
        if not numbers:
            return PagedList([], None)

        def search(conn):
            with gc_paused():
                page = build_from_rows(conn, stmt, make_page)
                rows, token = _search.split_page(page.rows, max_results, n_keys)
                return PagedList(page.finish(conn, len(rows)), token)

        return self._read(search)

    # -- garbage collection -------------------------------------------------------------------
    def _get_deleted_runs(self, older_than: int = 0) -> list[str]:
        runs = t.runs
        cutoff = now_ms() - int(older_than or 0)
        stmt = sa.select(runs.c.run_uuid).where(
            runs.c.lifecycle_stage == LifecycleStage.DELETED,
            sa.or_(runs.c.deleted_time.is_(None), runs.c.deleted_time <= cutoff),
        ).order_by(runs.c.deleted_time, runs.c.run_uuid)
        return self._read(lambda conn: [row.run_uuid for row in conn.execute(stmt)])

    def _delete_run_rows(self, conn, run_ids: list[str]) -> None:
        for chunk in chunks(list(run_ids)):
            for table in (*t.RUN_CHILD_TABLES, t.runs):
                conn.execute(table.delete().where(table.c.run_uuid.in_(chunk)))

    def _hard_delete_run(self, run_id) -> None:
        validate_run_id(run_id)

        def delete(conn):
            row = self._run_row(conn, run_id)
            self._delete_run_rows(conn, [row.run_uuid])

        self._write(delete)
