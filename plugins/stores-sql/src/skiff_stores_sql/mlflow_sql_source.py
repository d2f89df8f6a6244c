"""Reading an MLflow SQL database directly (``skiff migrate --from sqlite:///mlflow.db``), so
a team can leave MLflow without running its server.

Read-only by construction: SQLite is opened with ``mode=ro``, PostgreSQL sessions with
``default_transaction_read_only``, MySQL/MariaDB sessions with ``TRANSACTION READ ONLY``;
tables are reflected (their columns differ between MLflow versions: ``workspace`` since
3.10, logged models since 3.0) and read with SQLAlchemy Core in pages. Table layout:
``/work/shared/reference/mlflow-interfaces.md`` section 5. MLflow's encodings are undone:
``is_nan`` rows are NaN again, the largest double is infinity again. With workspaces, only
the ``default`` workspace is read.
"""

from __future__ import annotations

import math
import os
import sqlite3
import sys
import urllib.request

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from skiff.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModel,
    Metric,
    ModelVersion,
    Param,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from skiff.entities.logged_model import LoggedModelStatus
from skiff_stores_sql.engine import backend_of, connection_error, normalize_url
from skiff_stores_sql.migrate_sources import resolve_proxied

_SKIFF_VERSION_TABLE = "skiff_alembic_version"
_MLFLOW_MARKERS = {"alembic_version", "experiments", "runs"}
_RUN_PAGE = 500
_IN_CHUNK = 500
_DELETED_VERSION = "Deleted_Internal"  # MLflow's tombstone stage for deleted versions
_DEFAULT_WORKSPACE = "default"


def read_only_engine(uri: str) -> sa.Engine:
    url = normalize_url(uri)
    backend = backend_of(url)
    if backend == "sqlite":
        path = os.path.abspath(url.database or "")
        target = f"file:{urllib.request.pathname2url(path)}?mode=ro"
        return sa.create_engine("sqlite://", poolclass=NullPool, creator=lambda: sqlite3.connect(
            target, uri=True, check_same_thread=False))
    if backend == "postgresql":
        args = {"options": "-c default_transaction_read_only=on"}
    else:
        args = {"init_command": "SET SESSION TRANSACTION READ ONLY"}
    return sa.create_engine(url, poolclass=NullPool, connect_args=args)


def _table_names(engine: sa.Engine, url) -> set[str]:
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    except sa.exc.OperationalError as exc:
        raise connection_error(url, exc) from None


def is_mlflow_database(uri: str) -> bool:
    """True when the database at ``uri`` has MLflow's schema (not Skiff's)."""
    engine = read_only_engine(uri)
    try:
        names = _table_names(engine, engine.url)
    finally:
        engine.dispose()
    return _MLFLOW_MARKERS <= names and _SKIFF_VERSION_TABLE not in names


def _metric_value(value, is_nan) -> float:
    if is_nan:
        return math.nan
    if value is not None and abs(value) == sys.float_info.max:
        return math.copysign(math.inf, value)
    return value


def _in_chunks(values):
    values = list(values)
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start:start + _IN_CHUNK]


class MlflowSqlSource:
    """A migration source (see ``migrate_sources``) over MLflow's tables."""

    has_registry = False

    def __init__(self, uri: str, artifacts_destination: str | None = None):
        self.uri, self.artifacts_destination = uri, artifacts_destination
        self.engine = read_only_engine(uri)
        names = _table_names(self.engine, self.engine.url)
        self.meta = sa.MetaData()
        self.meta.reflect(self.engine, only=sorted(names & _KNOWN_TABLES))
        self.t = self.meta.tables
        for table in self.t.values():
            for column in table.columns:
                if getattr(column.type, "asdecimal", False):
                    # Reflected MySQL DOUBLEs come back as 10-digit Decimals otherwise.
                    column.type.asdecimal = False
        self.has_registry = "registered_models" in self.t and "model_versions" in self.t

    def notices(self) -> list[str]:
        """What this source leaves behind: experiments of other workspaces."""
        exps = self.t["experiments"]
        if "workspace" not in exps.c:
            return []
        others = self._rows(sa.select(exps.c.workspace, sa.func.count()).where(
            exps.c.workspace != _DEFAULT_WORKSPACE).group_by(exps.c.workspace))
        return [f"Workspace '{name}' ({count} experiments) is not copied: only the "
                f"'{_DEFAULT_WORKSPACE}' workspace is" for name, count in others]

    def close(self) -> None:
        self.engine.dispose()

    def resolve_artifact_uri(self, uri: str) -> str:
        return resolve_proxied(uri, self.artifacts_destination)

    def _rows(self, stmt):
        with self.engine.connect() as conn:
            return conn.execute(stmt).all()

    def _in_workspace(self, table):
        """The default-workspace condition, for tables that have workspaces (3.10+)."""
        column = table.c.get("workspace")
        return [] if column is None else [column == _DEFAULT_WORKSPACE]

    # -- experiments ------------------------------------------------------------------
    def experiments(self):
        exps, tags = self.t["experiments"], self.t["experiment_tags"]
        rows = self._rows(sa.select(exps).where(*self._in_workspace(exps))
                          .order_by(exps.c.experiment_id))
        by_id: dict = {row.experiment_id: {} for row in rows}
        for tag in self._rows(sa.select(tags)):
            if tag.experiment_id in by_id:
                by_id[tag.experiment_id][tag.key] = tag.value or ""
        return [Experiment(str(row.experiment_id), row.name, row.artifact_location or "",
                           row.lifecycle_stage, by_id[row.experiment_id], row.creation_time,
                           row.last_update_time) for row in rows]

    def count_runs(self) -> int:
        runs, exps = self.t["runs"], self.t["experiments"]
        stmt = sa.select(sa.func.count()).select_from(runs.join(
            exps, runs.c.experiment_id == exps.c.experiment_id)).where(*self._in_workspace(exps))
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    # -- runs -------------------------------------------------------------------------
    def runs(self, experiment_id):
        """Every run of the experiment, a page at a time (keyset on the run ID)."""
        runs = self.t["runs"]
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(runs).where(
                    runs.c.experiment_id == int(experiment_id), runs.c.run_uuid > last)
                    .order_by(runs.c.run_uuid).limit(_RUN_PAGE)).all()
                if not rows:
                    return
                page = self._runs_from_rows(conn, rows)
            yield from page
            last = rows[-1].run_uuid

    def _key_values(self, conn, table, ids, key="key", value="value"):
        out: dict = {run_id: {} for run_id in ids}
        for chunk in _in_chunks(ids):
            for row in conn.execute(sa.select(table).where(table.c.run_uuid.in_(chunk))):
                out[row.run_uuid][getattr(row, key)] = row
        return out

    def _runs_from_rows(self, conn, rows) -> list[Run]:
        ids = [row.run_uuid for row in rows]
        tags = self._key_values(conn, self.t["tags"], ids)
        params = self._key_values(conn, self.t["params"], ids)
        latest = self._key_values(conn, self.t["latest_metrics"], ids)
        inputs = self._dataset_inputs(conn, ids)
        out = []
        for row in rows:
            run_tags = {k: tag.value or "" for k, tag in tags[row.run_uuid].items()}
            info = RunInfo(
                run_id=row.run_uuid, experiment_id=str(row.experiment_id),
                user_id=row.user_id or "", status=row.status or "RUNNING",
                start_time=row.start_time, end_time=row.end_time,
                lifecycle_stage=row.lifecycle_stage, artifact_uri=row.artifact_uri or "",
                run_name=row.name or run_tags.get("mlflow.runName", ""))
            data = RunData(
                [Metric(k, _metric_value(m.value, m.is_nan), m.timestamp, m.step)
                 for k, m in latest[row.run_uuid].items()],
                [Param(k, p.value) for k, p in params[row.run_uuid].items()],
                [RunTag(k, v) for k, v in run_tags.items()])
            out.append(Run(info, data, RunInputs(inputs.get(row.run_uuid, []))))
        return out

    def _dataset_inputs(self, conn, ids) -> dict[str, list[DatasetInput]]:
        if not {"inputs", "datasets", "input_tags"} <= set(self.t):
            return {}
        inputs, datasets, input_tags = self.t["inputs"], self.t["datasets"], self.t["input_tags"]
        found = []
        for chunk in _in_chunks(ids):
            found += conn.execute(sa.select(inputs, datasets).join(
                datasets, inputs.c.source_id == datasets.c.dataset_uuid).where(
                inputs.c.source_type == "DATASET", inputs.c.destination_type == "RUN",
                inputs.c.destination_id.in_(chunk))).all()
        tags: dict = {row.input_uuid: [] for row in found}
        for chunk in _in_chunks(tags):
            for tag in conn.execute(sa.select(input_tags).where(
                    input_tags.c.input_uuid.in_(chunk)).order_by(input_tags.c.name)):
                tags[tag.input_uuid].append(InputTag(tag.name, tag.value))
        out: dict = {}
        for row in found:
            dataset = Dataset(row.name, row.digest, row.dataset_source_type, row.dataset_source,
                              row.dataset_schema, row.dataset_profile)
            out.setdefault(row.destination_id, []).append(
                DatasetInput(dataset, tags[row.input_uuid]))
        return out

    def metric_history(self, run_id, key):
        """Every point of one metric, streamed, in (step, timestamp) order."""
        metrics = self.t["metrics"]
        stmt = (sa.select(metrics.c.value, metrics.c.timestamp, metrics.c.step, metrics.c.is_nan)
                .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
                .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.value))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(stmt):
                yield Metric(key, _metric_value(row.value, row.is_nan), row.timestamp,
                             row.step or 0)

    # -- logged models (MLflow 3.x) -------------------------------------------------------
    def logged_model(self, model_id):
        if "logged_models" not in self.t:
            return None
        models = self.t["logged_models"]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(models).where(models.c.model_id == model_id)).first()
            if row is None:
                return None
            tags, params = self.t.get("logged_model_tags"), self.t.get("logged_model_params")
            tag_rows = [] if tags is None else conn.execute(
                sa.select(tags).where(tags.c.model_id == model_id)).all()
            param_rows = [] if params is None else conn.execute(
                sa.select(params).where(params.c.model_id == model_id)).all()
        status = row.status
        if isinstance(status, int) or (isinstance(status, str) and status.isdigit()):
            status = LoggedModelStatus.to_string(int(status))
        return LoggedModel(
            model_id=row.model_id, experiment_id=str(row.experiment_id), name=row.name,
            artifact_location=row.artifact_location, creation_timestamp=row.creation_timestamp_ms,
            last_updated_timestamp=row.last_updated_timestamp_ms, status=status,
            model_type=row.model_type, source_run_id=row.source_run_id,
            status_message=row.status_message,
            tags={r.tag_key: r.tag_value for r in tag_rows},
            params={r.param_key: r.param_value for r in param_rows})

    # -- registry ---------------------------------------------------------------------------
    def registered_models(self):
        models = self.t["registered_models"]
        tags, aliases = self.t.get("registered_model_tags"), self.t.get("registered_model_aliases")
        rows = self._rows(sa.select(models).where(*self._in_workspace(models))
                          .order_by(models.c.name))
        for chunk in _in_chunks(rows):
            names = [row.name for row in chunk]
            model_tags: dict = {name: {} for name in names}
            model_aliases: dict = {name: {} for name in names}
            for table, into, key in ((tags, model_tags, "key"), (aliases, model_aliases, "alias")):
                if table is None:
                    continue
                where = [table.c.name.in_(names), *self._in_workspace(table)]
                for row in self._rows(sa.select(table).where(*where)):
                    value = row.value if key == "key" else str(row.version)
                    into[row.name][getattr(row, key)] = value
            for row in chunk:
                yield RegisteredModel(
                    name=row.name, creation_timestamp=row.creation_time,
                    last_updated_timestamp=row.last_updated_time, description=row.description,
                    tags=model_tags[row.name], aliases=model_aliases[row.name])

    def model_versions(self, name):
        versions, tags = self.t["model_versions"], self.t.get("model_version_tags")
        rows = self._rows(sa.select(versions).where(
            versions.c.name == name, versions.c.current_stage != _DELETED_VERSION,
            *self._in_workspace(versions)).order_by(versions.c.version))
        by_version: dict = {row.version: {} for row in rows}
        if tags is not None and rows:
            for tag in self._rows(sa.select(tags).where(tags.c.name == name,
                                                        *self._in_workspace(tags))):
                if tag.version in by_version:
                    by_version[tag.version][tag.key] = tag.value or ""
        return [ModelVersion(
            name=row.name, version=str(row.version), creation_timestamp=row.creation_time,
            last_updated_timestamp=row.last_updated_time, description=row.description,
            user_id=row.user_id, current_stage=row.current_stage, source=row.source,
            run_id=row.run_id or None, status=row.status, status_message=row.status_message,
            tags=by_version[row.version], run_link=row.run_link) for row in rows]


_KNOWN_TABLES = {
    "experiments", "experiment_tags", "runs", "tags", "params", "metrics", "latest_metrics",
    "datasets", "inputs", "input_tags", "logged_models", "logged_model_tags",
    "logged_model_params", "registered_models", "registered_model_tags", "model_versions",
    "model_version_tags", "registered_model_aliases",
}
