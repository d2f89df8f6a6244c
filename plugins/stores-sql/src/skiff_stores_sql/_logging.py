"""log_batch (bulk, all or nothing) and metric history reads (paged, or sampled in SQL)."""

from __future__ import annotations

import sqlalchemy as sa

from skiff.entities import Metric, PagedList
from skiff.search.paging import decode_token, encode_token
from skiff.store._sampling import sample_steps
from skiff.validation import (
    validate_batch,
    validate_batch_limits,
    validate_max_results,
    validate_metrics,
)
from skiff_stores_sql import _dialect, _latest_metrics_doc, _params_tags
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import (
    METRIC_COLUMNS,
    decode_value,
    gc_paused,
    invalid,
    latest_per_key,
    metric_columns,
    metric_rows_of,
    metrics_from_rows,
)

RUN_NAME_TAG = "mlflow.runName"
MAX_BULK_RUNS = 100
MAX_BULK_POINTS = 25000
# Histories of at most this many points are sampled exactly as skiff.store._sampling does;
# longer ones by seeking the first step at or after each of N evenly spaced step values
# (the same choice when steps are evenly spaced), one index probe each.
_EXACT_SAMPLING_POINTS = 5000
_UNION_CHUNK = 400  # below SQLite's 500-term compound SELECT limit


class LoggingMixin:
    def log_metric(self, run_id, metric) -> None:
        if not self._plain_metrics.try_write(run_id, metric):
            self.log_batch(run_id, [metric], [], [])

    def log_batch(self, run_id, metrics, params, tags) -> None:
        metrics, params, tags = list(metrics or []), list(params or []), list(tags or [])
        # Every limit and key is checked before the transaction starts.
        validate_batch_limits(metrics, params, tags)
        validate_metrics(metrics)
        params, tags = validate_batch([], params, tags)
        if metrics and not (params or tags) and \
                self._plain_metrics.try_write_batch(run_id, metrics):
            return
        metric_rows = metric_rows_of(run_id, metrics)
        latest_rows = latest_per_key(metric_rows)
        model_rows = [
            {"model_id": row[9], "key": row[1], "step": row[2], "timestamp": row[3],
             "run_id": run_id, "value": row[5], "value_kind": row[6], "dataset_name": row[7],
             "dataset_digest": row[8]}
            for row in metric_rows if row[9]
        ]
        tag_values = {tag.key: tag.value for tag in tags}

        def write(conn):
            # locked for the documents of params and tags, and of latest metrics
            run = self._active_run_row(conn, run_id, lock=True)
            if params:
                self._insert_params(conn, run.run_uuid, params)
            if tag_values:
                _dialect.upsert(conn, t.tags, [
                    {"run_uuid": run.run_uuid, "key": k, "value": v}
                    for k, v in tag_values.items()
                ], ["run_uuid", "key"], ["value"])
                if RUN_NAME_TAG in tag_values:
                    conn.execute(t.runs.update().where(t.runs.c.run_uuid == run.run_uuid)
                                 .values(name=tag_values[RUN_NAME_TAG]))
            if params or tag_values:
                # every param of the batch is stored now (new, or the same value already)
                _params_tags.rewrite(conn, run, {p.key: p.value for p in params}, tag_values)
            if metric_rows:
                _dialect.insert_tuples(conn, t.metrics, METRIC_COLUMNS, metric_rows)
                _dialect.upsert_latest_metrics(conn, latest_rows)
                _latest_metrics_doc.refresh(conn, run, [row[1] for row in latest_rows])
                _dialect.insert_ignore(conn, t.logged_model_metrics, model_rows,
                                       ["model_id", "key", "step", "timestamp", "run_id"])

        if not (metric_rows or params or tag_values):
            self._read(lambda conn: self._active_run_row(conn, run_id))
            return
        for attempt in range(3):
            try:
                return self._write(write)
            except sa.exc.IntegrityError:
                # Two writers adding the same new param at once (PostgreSQL, MySQL): the
                # second insert waits for the first to commit, then fails on the primary
                # key, and its whole transaction is rolled back. Run it again: it now sees
                # the committed value (the same: nothing to add; another: MLflow's
                # "Changing param values" error).
                if not params or attempt == 2:
                    raise

    def _insert_params(self, conn, run_uuid: str, params: list) -> None:
        pt = t.params
        wanted = {p.key: p.value for p in params}
        existing = dict(conn.execute(
            sa.select(pt.c.key, pt.c.value).where(pt.c.run_uuid == run_uuid,
                                                  pt.c.key.in_(list(wanted)))
        ).all())
        changed = [
            {"key": k, "old_value": existing[k], "new_value": v}
            for k, v in wanted.items() if k in existing and existing[k] != v
        ]
        if changed:
            raise invalid(
                f"Changing param values is not allowed. Params were already logged='{changed}' "
                f"for run ID='{run_uuid}'."
            )
        new = [{"run_uuid": run_uuid, "key": k, "value": v}
               for k, v in wanted.items() if k not in existing]
        if new:
            conn.execute(pt.insert(), new)

    # -- history ------------------------------------------------------------------------
    def get_metric_history(self, run_id, metric_key, max_results=None,
                           page_token=None) -> PagedList[Metric]:
        m = t.metrics
        order = (m.c.step, m.c.timestamp, m.c.seq)
        stmt = sa.select(*metric_columns(m), m.c.seq).where(
            m.c.run_uuid == str(run_id), m.c.key == metric_key)
        payload = decode_token(page_token)
        if "after" in payload:
            after = payload["after"]
            if not (isinstance(after, list) and len(after) == 3
                    and all(isinstance(v, int) for v in after)):
                raise invalid(f"Invalid page token: {page_token!r}")
            stmt = stmt.where(sa.tuple_(*order) > sa.tuple_(*after))
        elif "offset" in payload:
            offset = payload["offset"]
            if not isinstance(offset, int) or offset < 0:
                raise invalid(f"Invalid page token: {page_token!r}")
            stmt = stmt.offset(offset)
        stmt = stmt.order_by(*order)
        if max_results is not None:
            max_results = validate_max_results(max_results, 2**31 - 1)
            stmt = stmt.limit(max_results + 1)

        def read(conn):
            result = conn.execute(stmt)
            with gc_paused():
                # Plain driver tuples: the columns need no conversion, and SQLAlchemy's
                # Row objects cost as much as the query on a long history.
                rows = result.cursor.fetchall()
                result.close()
                token = None
                if max_results is not None and len(rows) > max_results:
                    rows = rows[:max_results]
                    last = rows[-1]  # ... step, dataset_name, dataset_digest, model_id, seq
                    token = encode_token({"after": [last[4], last[3], last[8]]})
                return PagedList(metrics_from_rows(rows), token)

        return self._read(read)

    def get_metric_history_points(self, run_id, metric_key) -> list[tuple]:
        m = t.metrics
        stmt = (sa.select(m.c.key, m.c.value, m.c.timestamp, m.c.step, m.c.dataset_name,
                          m.c.dataset_digest, m.c.model_id, m.c.value_kind)
                .where(m.c.run_uuid == str(run_id), m.c.key == metric_key)
                .order_by(m.c.step, m.c.timestamp, m.c.seq))

        def read(conn):
            result = conn.execute(stmt)
            with gc_paused():
                rows = list(result.cursor.fetchall())  # PyMySQL gives a tuple
                result.close()
                if any(row[7] for row in rows):  # NaN or an infinity among the values
                    rows = [row if not row[7] else
                            (row[0], decode_value(row[1], row[7]), *row[2:]) for row in rows]
                return rows

        return self._read(read)

    def get_metric_history_bulk_interval(self, run_ids, metric_key, max_results,
                                         start_step=None, end_step=None) -> list[Metric]:
        run_ids = list(run_ids or [])
        if not run_ids:
            raise invalid("get_metric_history_bulk_interval needs at least one run ID")
        if len(run_ids) > MAX_BULK_RUNS:
            raise invalid(f"At most {MAX_BULK_RUNS} run IDs may be given, got {len(run_ids)}")
        max_results = validate_max_results(max_results, MAX_BULK_POINTS)

        def read(conn):
            out = []
            for run_id in run_ids:
                steps = self._sampled_steps(conn, run_id, metric_key, max_results,
                                            start_step, end_step)
                points = self._points_at_steps(conn, run_id, metric_key, steps, max_results)
                if points is None:  # many points share steps: sample rows instead
                    points = self._sampled_rows(conn, run_id, metric_key, max_results,
                                                start_step, end_step)
                out.extend(points)
            return out

        return self._read(read)

    def _step_range(self, run_id, key, start_step, end_step):
        m = t.metrics
        cond = [m.c.run_uuid == run_id, m.c.key == key]
        if start_step is not None:
            cond.append(m.c.step >= int(start_step))
        if end_step is not None:
            cond.append(m.c.step <= int(end_step))
        return cond

    def _sampled_steps(self, conn, run_id, key, budget, start_step, end_step) -> list[int]:
        m = t.metrics
        cond = self._step_range(run_id, key, start_step, end_step)
        # The first points in index order (no DISTINCT: a planner would read everything).
        head = conn.execute(
            sa.select(m.c.step).where(*cond).order_by(m.c.step, m.c.timestamp, m.c.seq)
            .limit(_EXACT_SAMPLING_POINTS + 1)
        ).scalars().all()
        if len(head) <= _EXACT_SAMPLING_POINTS:
            return sorted(sample_steps(sorted(set(head)), budget))
        # A long history: seek the first step at or after each of `budget` evenly spaced
        # values between the first and last step (one index probe each).
        first = head[0]
        last = conn.execute(sa.select(sa.func.max(m.c.step)).where(*cond)).scalar()
        if budget == 1:
            return [last]
        span = last - first
        targets = sorted({first + round(i * span / (budget - 1)) for i in range(budget)})
        found: set[int] = set()
        for chunk_start in range(0, len(targets), _UNION_CHUNK):
            chunk = targets[chunk_start:chunk_start + _UNION_CHUNK]
            stmt, params = self._probe_statement(conn, run_id, key, end_step, chunk)
            found.update(s for s in conn.execute(stmt, params).scalars() if s is not None)
        return sorted(found)

    @staticmethod
    def _probe_statement(conn, run_id, key, end_step, targets: list[int]):
        """One statement of index probes: the first step at or after each target.
        Only bound parameters vary; the SQL text is built from our own table's names."""
        quote = conn.dialect.identifier_preparer.quote
        bound = " AND step <= :end" if end_step is not None else ""
        if conn.dialect.name == "postgresql":
            # One planned subquery run per array element, instead of N planned subqueries.
            sql = (
                "SELECT probe.step FROM unnest(CAST(:targets AS bigint[])) AS target(value) "
                "CROSS JOIN LATERAL (SELECT step FROM metrics WHERE run_uuid = :run AND "
                f"{quote('key')} = :key AND step >= target.value{bound} ORDER BY step "
                "LIMIT 1) AS probe"
            )
            params = {"run": run_id, "key": key, "targets": list(targets)}
            if end_step is not None:
                params["end"] = int(end_step)
            return sa.text(sql), params
        probe = (f"SELECT MIN(step) FROM metrics WHERE run_uuid = :run AND {quote('key')} = "
                 f":key AND step >= :t{{i}}{bound}")
        sql = " UNION ALL ".join(probe.format(i=i) for i in range(len(targets)))
        params = {"run": run_id, "key": key, **{f"t{i}": v for i, v in enumerate(targets)}}
        if end_step is not None:
            params["end"] = int(end_step)
        return sa.text(sql), params

    def _points_at_steps(self, conn, run_id, key, steps: list[int], budget: int):
        """Every point at ``steps``, or None when they hold more than ``budget`` points."""
        if not steps:
            return []
        m = t.metrics
        # No ORDER BY (the few rows are sorted here), and on PostgreSQL the LIMIT sits
        # outside a materialized CTE: either would tempt its planner into scanning the whole
        # history instead of probing the index for each step.
        inner = sa.select(*metric_columns(m), m.c.seq).where(
            m.c.run_uuid == run_id, m.c.key == key, m.c.step.in_(steps))
        if conn.dialect.name == "postgresql":
            points = inner.cte("points").prefix_with("MATERIALIZED")
        else:
            points = inner.subquery()
        rows = conn.execute(sa.select(points).limit(budget + 1)).all()
        if len(rows) > budget:
            return None
        rows.sort(key=lambda row: (row[4], row[3], row[8]))  # step, timestamp, seq
        return metrics_from_rows(rows, run_id)

    def _sampled_rows(self, conn, run_id, key, budget, start_step, end_step) -> list[Metric]:
        """``budget`` points spread evenly over the rows of the range, first and last kept
        (for histories where many points share a step, e.g. all logged at step 0)."""
        m = t.metrics
        cond = self._step_range(run_id, key, start_step, end_step)
        total = conn.execute(sa.select(sa.func.count()).select_from(m).where(*cond)).scalar()
        wanted = sorted(sample_steps(list(range(total)), budget))
        position = sa.func.row_number().over(order_by=(m.c.step, m.c.timestamp, m.c.seq))
        numbered = sa.select(*metric_columns(m), (position - 1).label("position")) \
            .where(*cond).subquery()
        rows = conn.execute(
            sa.select(*metric_columns(numbered)).where(numbered.c.position.in_(wanted))
            .order_by(numbered.c.position)
        )
        return metrics_from_rows(rows, run_id)
