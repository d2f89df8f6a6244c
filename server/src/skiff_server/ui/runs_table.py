"""The runs table as a server-side query: which experiments, filter, sort, chosen columns and
one page of rows. The browser only ever receives the page it shows."""

from __future__ import annotations

from collections import Counter

import attrs
from flask import request

from skiff.entities import ViewType

PAGE_SIZES = (25, 50, 100, 250, 500, 1000)
DEFAULT_PAGE_SIZE = 100
DEFAULT_COLUMNS_PER_KIND = 6
VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
ENTITY_PREFIX = {"metrics": "metric", "params": "param", "tags": "tag"}
# Fixed columns that the store can sort by, mapped to their order_by clause.
SORTABLE_FIXED = {
    "attributes.run_name": "attributes.run_name",
    "attributes.status": "attributes.status",
    "attributes.start_time": "attributes.start_time",
    "attributes.end_time": "attributes.end_time",
    "attributes.duration": "attributes.duration",
    "attributes.user_id": "attributes.user_id",
    "source": "tags.`mlflow.source.name`",
}
SOURCE_TAG = "mlflow.source.name"
PARENT_TAG = "mlflow.parentRunId"
# Default columns come from this many runs of the page, loaded whole; the page itself loads
# only the keys of its columns, so runs with 10,000 params each cost what a few columns do.
DEFAULTS_SAMPLE = 25


@attrs.define
class RunsQuery:
    experiment_ids: list[str]
    filter: str = ""
    sort: str = "attributes.start_time"
    ascending: bool = False
    columns: list[str] | None = None  # None: pick defaults from the page
    view: str = "active"
    size: int = DEFAULT_PAGE_SIZE
    page_token: str | None = None
    back: list[str] = attrs.field(factory=list)

    @classmethod
    def from_request(cls, experiment_ids: list[str]) -> RunsQuery:
        args = request.args
        try:
            size = int(args.get("size", DEFAULT_PAGE_SIZE))
        except ValueError:
            size = DEFAULT_PAGE_SIZE
        columns = None
        if args.get("cols") or args.getlist("c"):
            columns = [c for c in dict.fromkeys(args.getlist("c")) if split_column(c)]
        return cls(
            experiment_ids=experiment_ids,
            filter=args.get("filter", "").strip(),
            sort=args.get("sort") or "attributes.start_time",
            ascending=args.get("dir") == "asc",
            columns=columns,
            view=args.get("view", "active") if args.get("view") in VIEWS else "active",
            size=min(PAGE_SIZES, key=lambda s: abs(s - size)),
            page_token=args.get("page_token") or None,
            back=args.getlist("back"),
        )

    def order_by(self) -> list[str]:
        clause = SORTABLE_FIXED.get(self.sort)
        if clause is None:
            parts = split_column(self.sort)
            if parts is None:
                clause = "attributes.start_time"
            else:
                clause = f"{parts[0]}.`{parts[1]}`"
        return [f"{clause} {'ASC' if self.ascending else 'DESC'}"]

    def url_args(self, **changes) -> dict:
        """Query arguments reproducing this table, with some changed."""
        out = {
            "e": self.experiment_ids, "filter": self.filter or None,
            "sort": None if self.sort == "attributes.start_time" else self.sort,
            "dir": "asc" if self.ascending else None, "view": None if self.view == "active"
            else self.view, "size": None if self.size == DEFAULT_PAGE_SIZE else self.size,
            "page_token": self.page_token, "back": self.back or None,
        }
        if self.columns is not None:
            out["cols"] = 1
            out["c"] = self.columns
        out.update(changes)
        return {k: v for k, v in out.items() if v not in (None, [], "")}

    def search(self, store, page_token=None, max_results=None, columns=None):
        """A page of runs; with ``columns``, only their keys (and the table's tags) need be
        loaded into the runs' data."""
        kwargs = dict(
            filter_string=self.filter, run_view_type=VIEWS[self.view],
            max_results=max_results or self.size, order_by=self.order_by(),
            page_token=page_token if page_token is not None else self.page_token)
        if columns is None:
            return store.search_runs(self.experiment_ids, **kwargs)
        return store.search_runs_with_keys(self.experiment_ids, data_keys(columns), **kwargs)


def data_keys(columns: list[str]) -> dict:
    """The metric, param and tag keys a table with ``columns`` shows."""
    keys = {"metrics": [], "params": [], "tags": [SOURCE_TAG, PARENT_TAG]}
    for column in columns:
        parts = split_column(column)
        if parts:
            keys[parts[0]].append(parts[1])
    return keys


def split_column(column: str) -> tuple[str, str] | None:
    """'metrics.a.b' -> ('metrics', 'a.b'); None for anything that is not a data column."""
    kind, _, key = column.partition(".")
    if kind in ENTITY_PREFIX and key:
        return kind, key
    return None


def default_columns(runs) -> list[str]:
    metrics, params = Counter(), Counter()
    for run in runs:
        metrics.update(m.key for m in run.data.metric_objs)
        params.update(p.key for p in run.data.param_objs)
    pick = []
    for prefix, counter in (("metrics", metrics), ("params", params)):
        ranked = sorted(counter, key=lambda k: (-counter[k], k))[:DEFAULT_COLUMNS_PER_KIND]
        pick += [f"{prefix}.{k}" for k in sorted(ranked)]
    return pick


def cell(run, column: str):
    kind, key = split_column(column)
    if kind == "metrics":
        for m in run.data.metric_objs:
            if m.key == key:
                return m.value
        return None
    source = run.data.param_objs if kind == "params" else run.data.tag_objs
    for item in source:
        if item.key == key:
            return item.value
    return None


def run_tag(run, key: str):
    for tag in run.data.tag_objs:
        if tag.key == key:
            return tag.value
    return None


def column_label(column: str) -> str:
    parts = split_column(column)
    return parts[1] if parts else column


def column_keys(runs, needle: str = "", limit: int = 200) -> dict:
    """Distinct metric, param and tag keys of some runs that contain ``needle``."""
    needle = needle.lower()
    found = {"metrics": set(), "params": set(), "tags": set()}
    for run in runs:
        found["metrics"].update(m.key for m in run.data.metric_objs)
        found["params"].update(p.key for p in run.data.param_objs)
        found["tags"].update(t.key for t in run.data.tag_objs)
    out, total = {}, 0
    for kind, keys in found.items():
        matching = sorted(k for k in keys if needle in k.lower())
        out[kind] = matching[:limit]
        total += len(matching)
    out["truncated"] = any(len(v) >= limit for k, v in out.items() if k != "truncated")
    out["total"] = total
    return out
