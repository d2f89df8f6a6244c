"""Logged models (MLflow 3.x ``models:/m-<id>``): create, finalize, tags, params, search."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from skiff.entities import LifecycleStage, LoggedModel, LoggedModelStatus, Metric, PagedList
from skiff.search import grammars
from skiff.search.ast import ATTRIBUTE, METRIC, NUMERIC_COMPARATORS, PARAM, TAG
from skiff.search.parser import parse_filter
from skiff.utils.uri import append_to_uri_path
from skiff.validation import validate_max_results, validate_param, validate_tag
from skiff_stores_sql import _dialect, _search
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import (
    decode_value,
    encode_value,
    experiment_id_int,
    invalid,
    not_found,
    now_ms,
)
from skiff_stores_sql.names import generate_name

_STRING = grammars.Field(grammars.STRING, grammars.STRING_OPS)
_STRING_SET = grammars.Field(grammars.STRING, grammars.STRING_SET_OPS)
_TIME = grammars.Field(grammars.INTEGER, NUMERIC_COMPARATORS)

LOGGED_MODEL_GRAMMAR = grammars.Grammar(
    kind="logged model",
    attributes={
        "name": _STRING_SET, "model_id": _STRING_SET, "model_type": _STRING,
        "status": _STRING, "source_run_id": _STRING_SET,
        "creation_timestamp": _TIME, "last_updated_timestamp": _TIME,
    },
    attribute_aliases={"creation_time": "creation_timestamp",
                       "last_updated_time": "last_updated_timestamp"},
    entity_fields={
        METRIC: grammars.Field(grammars.FLOAT, NUMERIC_COMPARATORS),
        PARAM: _STRING, TAG: _STRING,
    },
)

_LM = t.logged_models
_ATTRIBUTES = {
    "name": _LM.c.name, "model_id": _LM.c.model_id, "model_type": _LM.c.model_type,
    "status": _LM.c.status, "source_run_id": _LM.c.source_run_id,
    "creation_timestamp": _LM.c.creation_timestamp_ms,
    "creation_time": _LM.c.creation_timestamp_ms,
    "last_updated_timestamp": _LM.c.last_updated_timestamp_ms,
    "last_updated_time": _LM.c.last_updated_timestamp_ms,
}


def _status_name(status) -> str:
    if isinstance(status, str) and not status.isdigit():
        name = status.upper()
        if not name.startswith("LOGGED_MODEL_"):
            name = "LOGGED_MODEL_" + name
        return LoggedModelStatus.to_string(LoggedModelStatus.from_string(name))
    return LoggedModelStatus.to_string(int(status))


def _kv_exists(table, key, comparator, value):
    cond = [table.c.model_id == _LM.c.model_id, table.c.key == key]
    if table is t.logged_model_metrics:
        value, _ = encode_value(value)
    cond.append(_search.apply_comparator(table.c.value, comparator, value))
    return sa.select(sa.literal(1)).select_from(table).where(*cond).exists()


def _order_items(order_by) -> list[tuple[str, bool]]:
    """(field, ascending) from MLflow's order_by objects or "<field> [ASC|DESC]" strings."""
    items = []
    for item in order_by or []:
        if isinstance(item, dict):
            items.append((item.get("field_name", ""), bool(item.get("ascending", True))))
        elif isinstance(item, str):
            parts = item.strip().split()
            ascending = not (len(parts) > 1 and parts[-1].upper() == "DESC")
            if len(parts) > 1 and parts[-1].upper() in ("ASC", "DESC"):
                parts = parts[:-1]
            items.append((" ".join(parts), ascending))
        else:
            field = getattr(item, "field_name", None)
            if field is None:
                raise invalid(f"Invalid order_by item {item!r}")
            items.append((field, bool(getattr(item, "ascending", True))))
    return items


class LoggedModelsMixin:
    def _model_row(self, conn, model_id):
        row = conn.execute(sa.select(_LM).where(_LM.c.model_id == str(model_id))).first()
        if row is None or row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise not_found(f"Logged model with ID '{model_id}' not found.")
        return row

    def _load_models(self, conn, rows) -> list[LoggedModel]:
        ids = [row.model_id for row in rows]
        tags = {i: {} for i in ids}
        params = {i: {} for i in ids}
        metrics = {i: [] for i in ids}
        mt, mp, mm = t.logged_model_tags, t.logged_model_params, t.logged_model_metrics
        if ids:
            for row in conn.execute(sa.select(mt).where(mt.c.model_id.in_(ids))):
                tags[row.model_id][row.key] = row.value
            for row in conn.execute(sa.select(mp).where(mp.c.model_id.in_(ids))):
                params[row.model_id][row.key] = row.value
            for row in conn.execute(sa.select(mm).where(mm.c.model_id.in_(ids))
                                    .order_by(mm.c.key, mm.c.step, mm.c.timestamp)):
                metrics[row.model_id].append(Metric(
                    row.key, decode_value(row.value, row.value_kind), row.timestamp, row.step,
                    dataset_name=row.dataset_name, dataset_digest=row.dataset_digest,
                    model_id=row.model_id, run_id=row.run_id or None,
                ))
        return [
            LoggedModel(
                model_id=row.model_id, experiment_id=str(row.experiment_id), name=row.name,
                artifact_location=row.artifact_location,
                creation_timestamp=row.creation_timestamp_ms,
                last_updated_timestamp=row.last_updated_timestamp_ms, status=row.status,
                model_type=row.model_type, source_run_id=row.source_run_id,
                status_message=row.status_message, tags=tags[row.model_id],
                params=params[row.model_id], metrics=metrics[row.model_id],
            )
            for row in rows
        ]

    def create_logged_model(self, experiment_id, name=None, source_run_id=None, tags=None,
                            params=None, model_type=None) -> LoggedModel:
        tag_rows = {tag.key: validate_tag(tag.key, tag.value) for tag in (tags or [])}
        param_rows = {p.key: validate_param(p.key, p.value) for p in (params or [])}
        name = name or generate_name()

        def create(conn):
            exp = self._active_experiment_row(conn, experiment_id, "create a logged model in")
            model_id = f"m-{uuid.uuid4().hex}"
            now = now_ms()
            conn.execute(_LM.insert().values(
                model_id=model_id, experiment_id=exp.experiment_id, name=name,
                artifact_location=append_to_uri_path(exp.artifact_location or "", "models",
                                                     model_id, "artifacts"),
                creation_timestamp_ms=now, last_updated_timestamp_ms=now,
                status=LoggedModelStatus.to_string(LoggedModelStatus.PENDING),
                lifecycle_stage=LifecycleStage.ACTIVE, model_type=model_type,
                source_run_id=source_run_id, status_message=None,
            ))
            if tag_rows:
                conn.execute(t.logged_model_tags.insert(), [
                    {"model_id": model_id, "key": k, "value": v} for k, v in tag_rows.items()])
            if param_rows:
                conn.execute(t.logged_model_params.insert(), [
                    {"model_id": model_id, "key": k, "value": v} for k, v in param_rows.items()])
            return self._load_models(conn, [self._model_row(conn, model_id)])[0]

        return self._write(create)

    def get_logged_model(self, model_id) -> LoggedModel:
        return self._read(
            lambda conn: self._load_models(conn, [self._model_row(conn, model_id)])[0])

    def _update_model(self, model_id, **values) -> LoggedModel:
        def update(conn):
            self._model_row(conn, model_id)
            conn.execute(_LM.update().where(_LM.c.model_id == model_id)
                         .values(last_updated_timestamp_ms=now_ms(), **values))
            return self._load_models(conn, [self._model_row(conn, model_id)])[0] \
                if values.get("lifecycle_stage") != LifecycleStage.DELETED else None

        return self._write(update)

    def finalize_logged_model(self, model_id, status) -> LoggedModel:
        return self._update_model(model_id, status=_status_name(status))

    def delete_logged_model(self, model_id) -> None:
        self._update_model(model_id, lifecycle_stage=LifecycleStage.DELETED)

    def set_logged_model_tags(self, model_id, tags) -> None:
        rows = [{"model_id": model_id, "key": tag.key, "value": validate_tag(tag.key, tag.value)}
                for tag in tags or []]

        def write(conn):
            self._model_row(conn, model_id)
            _dialect.upsert(conn, t.logged_model_tags, rows, ["model_id", "key"], ["value"])

        self._write(write)

    def delete_logged_model_tag(self, model_id, key) -> None:
        mt = t.logged_model_tags

        def delete(conn):
            self._model_row(conn, model_id)
            done = conn.execute(mt.delete().where(mt.c.model_id == model_id, mt.c.key == key))
            if done.rowcount == 0:
                raise not_found(f"No tag with key {key!r} on logged model {model_id}")

        self._write(delete)

    def log_logged_model_params(self, model_id, params) -> None:
        rows = [{"model_id": model_id, "key": p.key, "value": validate_param(p.key, p.value)}
                for p in params or []]

        def write(conn):
            self._model_row(conn, model_id)
            _dialect.upsert(conn, t.logged_model_params, rows, ["model_id", "key"], ["value"])

        self._write(write)

    def search_logged_models(self, experiment_ids, filter_string=None, datasets=None,
                             max_results=None, order_by=None, page_token=None):
        max_results = validate_max_results(max_results or 50, 50000)
        numbers = [n for n in (experiment_id_int(e) for e in experiment_ids or []) if n is not None]
        where = [_LM.c.experiment_id.in_(numbers), _LM.c.lifecycle_stage == LifecycleStage.ACTIVE]
        for comp in parse_filter(filter_string, LOGGED_MODEL_GRAMMAR):
            if comp.entity == ATTRIBUTE:
                where.append(_search.apply_comparator(_ATTRIBUTES[comp.key], comp.comparator,
                                                      comp.value))
            else:
                table = {METRIC: t.logged_model_metrics, PARAM: t.logged_model_params,
                         TAG: t.logged_model_tags}[comp.entity]
                where.append(_kv_exists(table, comp.key, comp.comparator, comp.value))
        mm = t.logged_model_metrics
        for dataset in datasets or []:
            name = dataset.get("dataset_name") if isinstance(dataset, dict) else dataset.name
            digest = dataset.get("dataset_digest") if isinstance(dataset, dict) else dataset.digest
            cond = [mm.c.model_id == _LM.c.model_id, mm.c.dataset_name == name]
            if digest:
                cond.append(mm.c.dataset_digest == digest)
            where.append(sa.select(sa.literal(1)).select_from(mm).where(*cond).exists())
        keys = []
        for field, ascending in _order_items(order_by):
            if field.startswith("metrics."):
                latest = (sa.select(mm.c.value).where(mm.c.model_id == _LM.c.model_id,
                                                      mm.c.key == field[len("metrics."):])
                          .order_by(mm.c.step.desc(), mm.c.timestamp.desc()).limit(1)
                          .scalar_subquery())
                keys.append(_search.SortKey(sa.case((latest.is_(None), 1), else_=0)))
                keys.append(_search.SortKey(sa.func.coalesce(latest, 0.0), ascending))
            elif field in _ATTRIBUTES:
                keys.append(_search.SortKey(_ATTRIBUTES[field], ascending))
            else:
                raise invalid(f"Invalid order_by field {field!r} for logged models")
        if not keys:
            keys.append(_search.SortKey(_LM.c.creation_timestamp_ms, False))
        keys.append(_search.SortKey(_LM.c.model_id, True))
        stmt, n_keys = _search.paged(sa.select(*_LM.c).where(*where), keys, page_token,
                                     max_results)
        if not numbers:
            return PagedList([], None)

        def search(conn):
            rows, token = _search.split_page(list(conn.execute(stmt)), max_results, n_keys)
            return PagedList(self._load_models(conn, rows), token)

        return self._read(search)

    def _delete_experiment_models(self, conn, experiment_id: int) -> None:
        ids = [r.model_id for r in conn.execute(
            sa.select(_LM.c.model_id).where(_LM.c.experiment_id == experiment_id))]
        if ids:
            for table in (t.logged_model_tags, t.logged_model_params, t.logged_model_metrics,
                          _LM):
                conn.execute(table.delete().where(table.c.model_id.in_(ids)))
