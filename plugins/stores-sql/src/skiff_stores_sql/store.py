"""``SqlTrackingStore``: the tracking store on SQLAlchemy Core.

This module holds the store's set-up, its transaction helpers and the experiment methods;
runs, logging and logged models live in the mixins beside it.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from skiff.entities import Experiment, LifecycleStage, PagedList, ViewType
from skiff.errors import SkiffException
from skiff.search.parser import parse_experiment_filter, parse_experiment_order_by
from skiff.store.tracking import (
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    TrackingStore,
)
from skiff.utils.uri import append_to_uri_path, path_to_local_file_uri
from skiff.validation import (
    MAX_ARTIFACT_LOCATION_LENGTH,
    validate_experiment_name,
    validate_experiment_tag,
    validate_max_results,
)
from skiff_stores_sql import _dialect, _search
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import experiment_id_int, invalid, not_found, now_ms
from skiff_stores_sql._logging import LoggingMixin
from skiff_stores_sql._models import LoggedModelsMixin
from skiff_stores_sql._plain_metrics import plain_metrics_writer
from skiff_stores_sql._runs import RunsMixin
from skiff_stores_sql.engine import (
    backend_of,
    get_engine,
    is_integrity_error,
    normalize_url,
    run_read,
    run_write,
)
from skiff_stores_sql.schema_version import ensure_schema

DEFAULT_EXPERIMENT_ID = 0


def default_artifact_root(artifact_uri: str | None) -> str:
    if artifact_uri:
        return artifact_uri
    return path_to_local_file_uri(os.path.abspath("mlruns"))


class SqlTrackingStore(RunsMixin, LoggingMixin, LoggedModelsMixin, TrackingStore):
    """Experiments, runs and their data in SQLite, PostgreSQL or MySQL/MariaDB."""

    def __init__(self, store_uri: str, artifact_uri: str | None = None):
        super().__init__(store_uri, artifact_uri)
        self.url = normalize_url(store_uri)
        self.backend = backend_of(self.url)
        self.artifact_root_uri = default_artifact_root(artifact_uri)
        self.engine = get_engine(self.url)
        ensure_schema(self.engine, store_uri)
        self._plain_metrics = plain_metrics_writer(self.engine, self.backend)
        self._ensure_default_experiment()

    # -- transactions ------------------------------------------------------------------
    def _write(self, fn):
        """Run ``fn(conn)`` in one write transaction (see ``engine.run_write``)."""
        return run_write(self.engine, self.url, fn)

    def _read(self, fn):
        return run_read(self.engine, fn)

    def close(self) -> None:
        """Nothing to close per store: the engine is shared per URL (see engine.py)."""

    # -- experiments -------------------------------------------------------------------
    def _ensure_default_experiment(self) -> None:
        exps = t.experiments

        def create(conn):
            found = conn.execute(
                sa.select(exps.c.experiment_id).where(exps.c.experiment_id == 0)
            ).first()
            if found is not None:
                return
            now = now_ms()
            conn.execute(exps.insert().values(
                experiment_id=DEFAULT_EXPERIMENT_ID,
                name=Experiment.DEFAULT_EXPERIMENT_NAME,
                artifact_location=append_to_uri_path(self.artifact_root_uri, "0"),
                lifecycle_stage=LifecycleStage.ACTIVE,
                creation_time=now,
                last_update_time=now,
            ))

        exists = self._read(lambda conn: conn.execute(
            sa.select(exps.c.experiment_id).where(exps.c.experiment_id == 0)).first())
        if exists is None:
            try:
                self._write(create)
            except sa.exc.IntegrityError:
                pass  # another process created it first

    def _experiment_row(self, conn, experiment_id):
        number = experiment_id_int(experiment_id)
        row = None
        if number is not None:
            exps = t.experiments
            row = conn.execute(sa.select(exps).where(exps.c.experiment_id == number)).first()
        if row is None:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return row

    def _active_experiment_row(self, conn, experiment_id, action: str):
        row = self._experiment_row(conn, experiment_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise invalid(
                f"Cannot {action} experiment {experiment_id}: it is deleted "
                f"(lifecycle_stage={row.lifecycle_stage!r}); restore it first"
            )
        return row

    def _experiments_from_rows(self, conn, rows) -> list[Experiment]:
        ids = [row.experiment_id for row in rows]
        tags_by_id: dict[int, dict] = {i: {} for i in ids}
        if ids:
            et = t.experiment_tags
            for tag in conn.execute(sa.select(et).where(et.c.experiment_id.in_(ids))):
                tags_by_id[tag.experiment_id][tag.key] = tag.value or ""
        return [
            Experiment(
                experiment_id=str(row.experiment_id), name=row.name,
                artifact_location=row.artifact_location or "",
                lifecycle_stage=row.lifecycle_stage, tags=tags_by_id[row.experiment_id],
                creation_time=row.creation_time, last_update_time=row.last_update_time,
            )
            for row in rows
        ]

    def create_experiment(self, name, artifact_location=None, tags=None) -> str:
        return self._create_experiment(name, artifact_location, tags)

    def create_experiment_with_id(self, experiment_id, name, artifact_location=None,
                                  tags=None) -> str:
        number = experiment_id_int(experiment_id)
        if number is None or str(number) != str(experiment_id):
            raise invalid(f"Experiment ID {experiment_id!r} does not fit this store "
                          "(integers from 0 to 2147483647)")
        return self._create_experiment(name, artifact_location, tags, number)

    def _create_experiment(self, name, artifact_location, tags, number=None) -> str:
        validate_experiment_name(name)
        if artifact_location and len(artifact_location) > MAX_ARTIFACT_LOCATION_LENGTH:
            raise invalid(
                f"Artifact location exceeds the maximum length of {MAX_ARTIFACT_LOCATION_LENGTH}"
            )
        tags = list(tags or [])
        for tag in tags:
            validate_experiment_tag(tag.key, tag.value)
        exps = t.experiments

        def create(conn):
            taken = conn.execute(sa.select(exps.c.lifecycle_stage).where(exps.c.name == name))
            if taken.first() is not None:
                raise _name_taken(name)
            if number is not None and conn.execute(sa.select(exps.c.experiment_id).where(
                    exps.c.experiment_id == number)).first() is not None:
                raise SkiffException(f"Experiment ID {number} is taken",
                                     "RESOURCE_ALREADY_EXISTS")
            now = now_ms()
            chosen = {} if number is None else {"experiment_id": number}
            result = conn.execute(exps.insert().values(
                name=name, artifact_location=artifact_location or None,
                lifecycle_stage=LifecycleStage.ACTIVE, creation_time=now, last_update_time=now,
                **chosen,
            ))
            new_id = result.inserted_primary_key[0]
            if number is not None and self.backend == "postgresql":
                _advance_pg_sequence(conn, number)
            if not artifact_location:
                conn.execute(exps.update().where(exps.c.experiment_id == new_id).values(
                    artifact_location=append_to_uri_path(self.artifact_root_uri, str(new_id))
                ))
            if tags:
                latest = {tag.key: tag.value for tag in tags}
                conn.execute(t.experiment_tags.insert(), [
                    {"experiment_id": new_id, "key": k, "value": v} for k, v in latest.items()
                ])
            return str(new_id)

        try:
            return self._write(create)
        except sa.exc.IntegrityError as exc:
            if is_integrity_error(exc):
                raise _name_taken(name) from None
            raise

    def get_experiment(self, experiment_id) -> Experiment:
        return self._read(lambda conn: self._experiments_from_rows(
            conn, [self._experiment_row(conn, experiment_id)])[0])

    def get_experiment_by_name(self, experiment_name) -> Experiment | None:
        exps = t.experiments

        def get(conn):
            row = conn.execute(sa.select(exps).where(exps.c.name == experiment_name)).first()
            return None if row is None else self._experiments_from_rows(conn, [row])[0]

        return self._read(get)

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY,
                           max_results=SEARCH_MAX_RESULTS_DEFAULT, filter_string=None,
                           order_by=None, page_token=None) -> PagedList[Experiment]:
        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        stages = LifecycleStage.view_type_to_stages(view_type)
        comparisons = parse_experiment_filter(filter_string)
        orders = parse_experiment_order_by(order_by)
        stmt, keys = _search.compile_experiment_search(stages, comparisons, orders)
        stmt, n_keys = _search.paged(stmt, keys, page_token, max_results)

        def search(conn):
            rows, token = _search.split_page(list(conn.execute(stmt)), max_results, n_keys)
            return PagedList(self._experiments_from_rows(conn, rows), token)

        return self._read(search)

    def _set_experiment_stage(self, experiment_id, stage: str) -> None:
        exps, runs = t.experiments, t.runs

        def update(conn):
            row = self._experiment_row(conn, experiment_id)
            now = now_ms()
            conn.execute(exps.update().where(exps.c.experiment_id == row.experiment_id)
                         .values(lifecycle_stage=stage, last_update_time=now))
            other = LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED else \
                LifecycleStage.DELETED
            conn.execute(
                runs.update()
                .where(runs.c.experiment_id == row.experiment_id,
                       runs.c.lifecycle_stage == other)
                .values(lifecycle_stage=stage,
                        deleted_time=now if stage == LifecycleStage.DELETED else None)
            )

        self._write(update)

    def delete_experiment(self, experiment_id) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id, new_name) -> None:
        exps = t.experiments

        def rename(conn):
            row = self._experiment_row(conn, experiment_id)
            validate_experiment_name(new_name)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise invalid(f"Cannot rename a non-active experiment ({experiment_id})")
            if row.name == new_name:
                return
            taken = conn.execute(sa.select(exps.c.experiment_id).where(exps.c.name == new_name))
            if taken.first() is not None:
                raise _name_taken(new_name)
            conn.execute(exps.update().where(exps.c.experiment_id == row.experiment_id)
                         .values(name=new_name, last_update_time=now_ms()))

        try:
            self._write(rename)
        except sa.exc.IntegrityError:
            raise _name_taken(new_name) from None

    def set_experiment_tag(self, experiment_id, tag) -> None:
        def set_tag(conn):
            row = self._active_experiment_row(conn, experiment_id, "set a tag on")
            validate_experiment_tag(tag.key, tag.value)
            _dialect.upsert(conn, t.experiment_tags, [{
                "experiment_id": row.experiment_id, "key": tag.key, "value": str(tag.value),
            }], ["experiment_id", "key"], ["value"])

        self._write(set_tag)

    def delete_experiment_tag(self, experiment_id, key) -> None:
        et = t.experiment_tags

        def delete(conn):
            row = self._active_experiment_row(conn, experiment_id, "delete a tag of")
            deleted = conn.execute(et.delete().where(
                et.c.experiment_id == row.experiment_id, et.c.key == key))
            if deleted.rowcount == 0:
                raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")

        self._write(delete)

    def _hard_delete_experiment(self, experiment_id) -> None:
        runs = t.runs

        def delete(conn):
            row = self._experiment_row(conn, experiment_id)
            run_ids = [r.run_uuid for r in conn.execute(
                sa.select(runs.c.run_uuid).where(runs.c.experiment_id == row.experiment_id))]
            self._delete_run_rows(conn, run_ids)
            self._delete_experiment_models(conn, row.experiment_id)
            for table in (t.datasets, t.experiment_tags, t.experiments):
                conn.execute(table.delete().where(table.c.experiment_id == row.experiment_id))

        self._write(delete)


def _advance_pg_sequence(conn, number: int) -> None:
    """An explicit ID does not move PostgreSQL's sequence: move it past ``number`` (never
    back, so IDs of removed experiments are not handed out again)."""
    seq = conn.execute(sa.text(
        "SELECT pg_get_serial_sequence('experiments', 'experiment_id')")).scalar()
    last, called = conn.execute(sa.text(f"SELECT last_value, is_called FROM {seq}")).one()
    if number > last or (number == last and not called):
        conn.execute(sa.text("SELECT setval(CAST(:seq AS regclass), :n)"),
                     {"seq": seq, "n": number})


def _name_taken(name: str) -> SkiffException:
    return SkiffException(
        f"Experiment(name={name}) already exists. Restore it if it was deleted, or choose "
        "another name.",
        "RESOURCE_ALREADY_EXISTS",
    )
