"""A page of runs read with its runs rows (they carry latest metrics, params and tags:
``_latest_metrics_doc``, ``_params_tags``) and a few IN (...) queries (inputs and outputs
when any run has them; the tables for runs without documents), turned
into entities or straight into MLflow's JSON form (``RunPage``)."""

from __future__ import annotations

import sqlalchemy as sa

from skiff.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    ModelInput,
    ModelOutput,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from skiff.entities._json import compact, float_to_json
from skiff_stores_sql import _latest_metrics_doc, _params_tags
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import decode_value, metric_columns, metrics_from_rows
from skiff_stores_sql._in_lists import ExpandingSelect

CHUNK = 5000  # IDs per IN (...) list: below every backend's bound-parameter limit
_RUN_COLUMNS = ("run_uuid", "experiment_id", "name", "user_id", "status", "start_time",
                "end_time", "lifecycle_stage", "artifact_uri")
if tuple(c.key for c in t.runs.c)[:len(_RUN_COLUMNS)] != _RUN_COLUMNS:
    raise RuntimeError(f"runs columns changed: update {__name__}")  # rows unpack by position


def chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def id_filter(conn, column, ids: list[str]):
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY(:ids)``) instead of one
    parameter per ID."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.String)))
    return column.in_(ids)


def optional_tables_used(conn) -> bool:
    """Whether any run has dataset inputs or model links at all: when none has, a page of
    runs skips those two queries (a probe of one row each)."""
    probe = sa.select(sa.or_(
        sa.select(sa.literal(1)).select_from(t.dataset_inputs).exists(),
        sa.select(sa.literal(1)).select_from(t.run_model_links).exists(),
    ))
    return bool(conn.execute(probe).scalar())


def run_info_from_row(row) -> RunInfo:
    """The RunInfo of a row that starts with the runs table's columns (by position: nine
    Row attributes cost ~8 ms of a 1000-run page, the tuple slots ~1)."""
    (run_id, experiment_id, name, user_id, status, start_time, end_time, stage,
     artifact_uri) = row[:9]
    return RunInfo(
        run_id=run_id, experiment_id=str(experiment_id), user_id=user_id or "",
        status=status, start_time=start_time, end_time=end_time, lifecycle_stage=stage,
        artifact_uri=artifact_uri or "", run_name=name or "",
    )


def _plain_rows(conn, stmt, params=None) -> list[tuple]:
    """All rows of ``stmt`` as the driver's tuples, for columns that need no conversion
    (strings and numbers): SQLAlchemy's Row objects cost more than the query here."""
    result = conn.execute(stmt, params)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


_ids = sa.bindparam("ids", expanding=True)
_lm, _pt, _tt = t.latest_metrics, t.params, t.tags
# (kind, table, statement): latest metrics in ``metric_columns`` order then the run ID;
# params and tags as (run ID, key, value)
_DATA = (
    ("metrics", _lm, ExpandingSelect(
        sa.select(*metric_columns(_lm), _lm.c.run_uuid).where(_lm.c.run_uuid.in_(_ids)), "ids")),
    ("params", _pt, ExpandingSelect(
        sa.select(_pt.c.run_uuid, _pt.c.key, _pt.c.value).where(_pt.c.run_uuid.in_(_ids)),
        "ids")),
    ("tags", _tt, ExpandingSelect(
        sa.select(_tt.c.run_uuid, _tt.c.key, _tt.c.value).where(_tt.c.run_uuid.in_(_ids)),
        "ids")),
)


class RunContents:
    """What the runs rows of a page do not carry, grouped by run ID: latest metrics rows
    (``metric_columns`` order) and (key, value) pairs of params and tags of runs without
    documents, and the entities of dataset inputs and model inputs/outputs (rare: only
    runs that have them are keys)."""

    def __init__(self):
        self.metrics: dict[str, list[tuple]] = {}
        self.params: dict[str, list[tuple]] = {}
        self.tags: dict[str, list[tuple]] = {}
        self.datasets: dict[str, list[DatasetInput]] = {}
        self.model_inputs: dict[str, list[ModelInput]] = {}
        self.model_outputs: dict[str, list[ModelOutput]] = {}

    @classmethod
    def fetch(cls, conn, ids: list[str], without_metrics: list[str],
              without_document: list[str], data_keys: dict) -> RunContents:
        """Inputs and outputs of the runs ``ids`` (when any run has some), latest metrics of
        ``without_metrics``, params and tags of ``without_document``. ``data_keys`` (kind
        -> keys) limits the metrics, params and tags read."""
        out = cls()
        if ids and optional_tables_used(conn):
            for chunk in chunks(ids):
                out._fetch_inputs_and_outputs(conn, chunk)
        for chunk in chunks(without_metrics):
            out._fetch_data(conn, _DATA[:1], chunk, data_keys)
        for chunk in chunks(without_document):
            out._fetch_data(conn, _DATA[1:], chunk, data_keys)
        return out

    def _fetch_data(self, conn, data, chunk: list[str], data_keys: dict) -> None:
        for kind, table, select in data:
            wanted = data_keys.get(kind)
            if wanted is None:
                rows = select.rows(conn, chunk)
            elif wanted:
                rows = _plain_rows(conn, select.stmt.where(table.c.key.in_(list(wanted))),
                                   {"ids": chunk})
            else:
                continue
            if kind == "metrics":
                for row in rows:
                    self.metrics.setdefault(row[-1], []).append(row)
            else:
                found = self.params if kind == "params" else self.tags
                for run_uuid, key, value in rows:
                    found.setdefault(run_uuid, []).append((key, value))

    def _fetch_inputs_and_outputs(self, conn, chunk: list[str]) -> None:
        di, ds, dit, links = t.dataset_inputs, t.datasets, t.dataset_input_tags, t.run_model_links
        # dataset inputs with their tags in one query (one row per input tag)
        joined = di.join(ds, ds.c.dataset_uuid == di.c.dataset_uuid).outerjoin(
            dit, sa.and_(dit.c.run_uuid == di.c.run_uuid,
                         dit.c.dataset_uuid == di.c.dataset_uuid))
        inputs: dict[tuple, DatasetInput] = {}
        for row in conn.execute(
                sa.select(di.c.run_uuid, ds, dit.c.key.label("tag_key"),
                          dit.c.value.label("tag_value"))
                .select_from(joined).where(id_filter(conn, di.c.run_uuid, chunk))
                .order_by(di.c.run_uuid, ds.c.name, ds.c.digest, dit.c.key)):
            found = inputs.get((row.run_uuid, row.dataset_uuid))
            if found is None:
                dataset = Dataset(row.name, row.digest, row.source_type or "",
                                  row.source or "", row.schema, row.profile)
                found = inputs[(row.run_uuid, row.dataset_uuid)] = DatasetInput(dataset, [])
                self.datasets.setdefault(row.run_uuid, []).append(found)
            if row.tag_key is not None:
                found.tags.append(InputTag(row.tag_key, row.tag_value))
        for row in conn.execute(sa.select(links)
                                .where(id_filter(conn, links.c.run_uuid, chunk))
                                .order_by(links.c.step, links.c.model_id)):
            if row.direction == "input":
                self.model_inputs.setdefault(row.run_uuid, []).append(ModelInput(row.model_id))
            else:
                self.model_outputs.setdefault(row.run_uuid, []).append(
                    ModelOutput(row.model_id, row.step))


class RunPage:
    """A page of runs built from its runs rows one at a time (``add``: the rows carry their
    latest metrics, params and tags as documents), so it is built while the database is
    still sending it, then completed with what rows alone cannot give (``finish``). Items
    are Run entities, or with ``as_dicts`` their ``to_dict()`` form, built from the rows
    (what a server answers ``runs/search`` with: no ~10 objects a run only to turn them
    into dicts; a contract test checks both forms agree)."""

    def __init__(self, as_dicts: bool = False, data_keys: dict | None = None):
        self.rows: list = []
        self.items: list = []
        self._as_dicts = as_dicts
        self._data_keys = data_keys or {}
        self._wanted_metrics = self._data_keys.get("metrics")
        self._wanted_params = self._data_keys.get("params")
        self._wanted_tags = self._data_keys.get("tags")
        self._without_metrics: list[int] = []  # positions of runs without a document
        self._without_document: list[int] = []

    def add(self, row) -> None:
        position = len(self.rows)
        self.rows.append(row)
        as_dicts, wanted = self._as_dicts, self._wanted_metrics
        text = row[_latest_metrics_doc.INDEX]
        if text is None:
            self._without_metrics.append(position)
            metrics = []
        elif wanted is not None and not wanted:
            metrics = []
        else:
            doc = _latest_metrics_doc.decode(text, wanted)
            metrics = (_latest_metrics_doc.metric_dicts(doc) if as_dicts
                       else _latest_metrics_doc.metrics(doc))
        text = row[_params_tags.INDEX]
        if text is None:
            self._without_document.append(position)
            params = tags = ()
        else:
            params, tags = _params_tags.decode(text)
            if self._wanted_params is not None:
                params = [pair for pair in params if pair[0] in self._wanted_params]
            if self._wanted_tags is not None:
                tags = [pair for pair in tags if pair[0] in self._wanted_tags]
        if as_dicts:
            data = {}
            if metrics:
                data["metrics"] = metrics
            if params:
                data["params"] = [{"key": k, "value": v} for k, v in params]
            if tags:
                data["tags"] = [{"key": k, "value": v} for k, v in tags]
            self.items.append({"info": _info_dict(row), "data": data, "inputs": {},
                               "outputs": {}})
        else:
            self.items.append(Run(run_info_from_row(row), RunData(
                metrics, [Param(k, v) for k, v in params], [RunTag(k, v) for k, v in tags])))

    def finish(self, conn, count: int | None = None) -> list:
        """The first ``count`` items (all by default), completed from the tables: runs
        without documents, and inputs and outputs when any run has some."""
        if count is not None and count < len(self.rows):
            del self.rows[count:], self.items[count:]
            self._without_metrics = [i for i in self._without_metrics if i < count]
            self._without_document = [i for i in self._without_document if i < count]
        rows, items = self.rows, self.items
        found = RunContents.fetch(conn, [row[0] for row in rows],
                                  [rows[i][0] for i in self._without_metrics],
                                  [rows[i][0] for i in self._without_document],
                                  self._data_keys)
        if self._as_dicts:
            self._complete_dicts(found)
        else:
            self._complete_runs(found)
        return items

    def _complete_runs(self, found: RunContents) -> None:
        rows, items = self.rows, self.items
        for i in self._without_metrics:
            items[i].data.metric_objs = metrics_from_rows(found.metrics.get(rows[i][0], ()))
        for i in self._without_document:
            run_id = rows[i][0]
            items[i].data.param_objs = [Param(k, v) for k, v in found.params.get(run_id, ())]
            items[i].data.tag_objs = [RunTag(k, v) for k, v in found.tags.get(run_id, ())]
        if found.datasets or found.model_inputs or found.model_outputs:
            for row, run in zip(rows, items):
                run_id = row[0]
                run.inputs = RunInputs(found.datasets.get(run_id, []),
                                       found.model_inputs.get(run_id, []))
                run.outputs = RunOutputs(found.model_outputs.get(run_id, []))

    def _complete_dicts(self, found: RunContents) -> None:
        rows, items = self.rows, self.items
        for i in self._without_metrics:
            metrics = found.metrics.get(rows[i][0])
            if metrics:  # first, as in a run with documents
                items[i]["data"] = {"metrics": [_metric_dict(m) for m in metrics],
                                    **items[i]["data"]}
        for i in self._without_document:
            data, run_id = items[i]["data"], rows[i][0]
            # the same key order as a run with a document: metrics, params, tags
            params, tags = found.params.get(run_id), found.tags.get(run_id)
            if params:
                data["params"] = [{"key": k, "value": v} for k, v in params]
            if tags:
                data["tags"] = [{"key": k, "value": v} for k, v in tags]
        if found.datasets or found.model_inputs or found.model_outputs:
            for row, item in zip(rows, items):
                run_id = row[0]
                item["inputs"] = RunInputs(found.datasets.get(run_id, []),
                                           found.model_inputs.get(run_id, [])).to_dict()
                item["outputs"] = RunOutputs(found.model_outputs.get(run_id, [])).to_dict()


def _info_dict(row) -> dict:
    """``RunInfo.to_dict()`` of a runs row, built from the row."""
    (run_id, experiment_id, name, user_id, status, start_time, end_time, stage,
     artifact_uri) = row[:9]
    info = {"run_uuid": run_id, "experiment_id": str(experiment_id),
            "run_name": name or "", "user_id": user_id or "", "status": status,
            "start_time": start_time, "end_time": end_time,
            "artifact_uri": artifact_uri or "", "lifecycle_stage": stage,
            "run_id": run_id}
    if start_time is None or status is None or stage is None:
        return compact(info)
    if end_time is None:  # a run still going: the usual missing field
        del info["end_time"]
    return info


def runs_from_rows(conn, rows, data_keys: dict | None = None) -> list[Run]:
    """Run entities for ``rows`` of the runs table, in their order."""
    page = RunPage(data_keys=data_keys)
    for row in rows:
        page.add(row)
    return page.finish(conn)


def _metric_dict(row) -> dict:
    """``Metric.to_dict()`` of a latest_metrics row, written directly for the usual row
    (finite or encoded value, no optional fields); anything else goes through the entity."""
    if row[1] is None or row[3] is None or row[4] is None or row[5] is not None \
            or row[6] is not None or row[7] is not None:
        return metrics_from_rows([row])[0].to_dict()
    value = row[1] if not row[2] else float_to_json(decode_value(row[1], row[2]))
    return {"key": row[0], "value": value, "timestamp": row[3], "step": row[4]}
