"""The runs table of one or several experiments, its CSV download, bulk delete/restore, and
the column chooser's key suggestions."""

from __future__ import annotations

import csv
import io

import attrs
from flask import Response, request, stream_with_context, url_for

from skiff.errors import SkiffException
from skiff_server.response import json_response
from skiff_server.ui import runs_table as rt
from skiff_server.ui.blueprint import arg_list, now_ms, page, redirect_back, tracking_store
from skiff_server.ui.formatting import fmt_duration, fmt_time

CSV_BATCH = 1000
SUGGESTION_SAMPLE = 200


def add_routes(bp) -> None:
    bp.add_url_rule("/experiments/<experiment_id>", "experiment_runs", experiment_runs)
    bp.add_url_rule("/runs", "runs", runs)
    bp.add_url_rule("/runs.csv", "runs_csv", runs_csv)
    bp.add_url_rule("/runs/delete", "runs_delete", runs_delete, methods=["POST"])
    bp.add_url_rule("/runs/restore", "runs_restore", runs_restore, methods=["POST"])
    bp.add_url_rule("/_ui/api/columns", "api_columns", api_columns)


def experiment_runs(experiment_id):
    return _table([experiment_id], single=True)


def runs():
    ids = arg_list("e")
    if not ids:
        return page("error.html", status=400, title="No experiment chosen",
                    error_code="INVALID_PARAMETER_VALUE",
                    message="Choose one or more experiments on the experiments page to list "
                            "their runs.")
    return _table(ids, single=False)


def _experiments(ids):
    store = tracking_store()
    return [store.get_experiment(i) for i in ids]


def _table(ids, single: bool):
    experiments = _experiments(ids)  # unknown IDs raise: the error page says which
    q = rt.RunsQuery.from_request(ids)
    endpoint = "skiff_ui.experiment_runs" if single else "skiff_ui.runs"

    def table_url(**changes):
        args = q.url_args(**changes)
        if single:
            args.pop("e", None)
            return url_for(endpoint, experiment_id=ids[0], **args)
        return url_for(endpoint, **args)

    rows, next_token, filter_error = [], None, None
    columns = q.columns
    try:
        if columns is None:
            sample = q.search(tracking_store(), max_results=min(q.size, rt.DEFAULTS_SAMPLE))
            columns = rt.default_columns(sample)
        result = q.search(tracking_store(), columns=columns)
        rows, next_token = list(result), result.token
    except SkiffException as exc:
        filter_error = exc.message
    columns = columns if columns is not None else []
    q = attrs.evolve(q, columns=columns)
    next_url = table_url(page_token=next_token, back=[*q.back, q.page_token or ""]) \
        if next_token else None
    prev_url = table_url(page_token=q.back[-1] or None, back=q.back[:-1]) if q.back else None

    def sort_url(column):
        ascending = not q.ascending if column == q.sort else False
        return table_url(sort=column, dir="asc" if ascending else None, page_token=None,
                         back=None)

    names = {e.experiment_id: e.name for e in experiments}
    title = experiments[0].name if len(experiments) == 1 else f"{len(experiments)} experiments"
    return page(
        "runs.html", title=title, experiments=experiments, names=names, single=single, q=q,
        rows=rows, columns=columns, filter_error=filter_error, next_url=next_url,
        prev_url=prev_url, first=len(q.back) * q.size, sort_url=sort_url, table_url=table_url,
        sortable=rt.SORTABLE_FIXED, cell=rt.cell, run_tag=rt.run_tag, label=rt.column_label,
        split=rt.split_column, now=now_ms(), page_sizes=rt.PAGE_SIZES,
        csv_url=url_for("skiff_ui.runs_csv", **q.url_args(page_token=None, back=None)),
        hidden_args=_hidden(q.url_args(page_token=None, back=None, e=None if single
                                       else q.experiment_ids)),
    )


def _hidden(args: dict) -> list[tuple[str, str]]:
    """Query arguments as (name, value) pairs for hidden form fields."""
    out = []
    for key, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            out.append((key, str(item)))
    return out


def runs_csv():
    ids = arg_list("e")
    if not ids:
        raise SkiffException.invalid_parameter_value("Choose experiments with ?e=ID.")
    _experiments(ids)
    q = rt.RunsQuery.from_request(ids)
    store = tracking_store()
    first = q.search(store, page_token="", max_results=CSV_BATCH)  # errors before streaming
    columns = q.columns if q.columns is not None else rt.default_columns(first)
    header = ["run_id", "run_name", "experiment_id", "status", "start_time", "end_time",
             "duration", "user", "source", "parent_run_id", "lifecycle_stage", *columns]

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        page_runs, now = first, now_ms()
        while True:
            for run in page_runs:
                info = run.info
                writer.writerow([
                    info.run_id, info.run_name, info.experiment_id, info.status,
                    fmt_time(info.start_time), fmt_time(info.end_time),
                    fmt_duration(info.start_time, info.end_time,
                                 now if info.status == "RUNNING" else None),
                    info.user_id, rt.run_tag(run, rt.SOURCE_TAG) or "",
                    rt.run_tag(run, rt.PARENT_TAG) or "", info.lifecycle_stage,
                    *[_csv_value(rt.cell(run, c)) for c in columns],
                ])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if not page_runs.token:
                return
            page_runs = q.search(store, page_token=page_runs.token, max_results=CSV_BATCH)

    name = "runs.csv" if len(ids) > 1 else f"runs-experiment-{ids[0]}.csv"
    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_value(value):
    if value is None:
        return ""
    text = str(value)
    # Spreadsheets run cells that start like a formula; a leading quote keeps them text.
    if text[:1] in ("=", "+", "@") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _bulk(action: str):
    ids = arg_list("run")
    default = url_for("skiff_ui.experiments")
    if not ids:
        return redirect_back(default, "Select at least one run first.")
    store = tracking_store()
    failed = []
    for run_id in ids:
        try:
            getattr(store, action)(run_id)
        except SkiffException as exc:
            failed.append(f"{run_id}: {exc.message}")
    return redirect_back(default, "; ".join(failed) if failed else None)


def runs_delete():
    return _bulk("delete_run")


def runs_restore():
    return _bulk("restore_run")


def api_columns():
    ids = arg_list("e")
    if not ids:
        raise SkiffException.invalid_parameter_value("Choose experiments with ?e=ID.")
    sample = tracking_store().search_runs(ids, max_results=SUGGESTION_SAMPLE)
    keys = rt.column_keys(sample, request.args.get("q", ""))
    keys["sampled_runs"] = len(sample)
    return json_response(keys)
