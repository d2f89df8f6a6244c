"""search_runs: read only what the filter and order need, then load the page in full.

When the filter names metrics, params, tags or datasets, those files are read first and
the filter applied, so meta.yaml is parsed only for the runs that pass. Every file goes
through the stat cache, so a repeated search rereads nothing that did not change.
"""

from __future__ import annotations

import os
import posixpath

from skiff.entities import (
    LifecycleStage,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from skiff.search.ast import ATTRIBUTE, DATASET, METRIC, PARAM, TAG
from skiff.search.paging import encode_token, offset_from_token
from skiff.validation import validate_max_results
from skiff_stores_file import _layout
from skiff_stores_file._base import StoreBase, warn_once

SEARCH_MAX_RESULTS_THRESHOLD = 50000
_MISSING_FILE = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


def _safe_key(key: str) -> bool:
    """Keys that cannot name a file of this run are simply absent."""
    return bool(key) and not key.startswith("/") and posixpath.normpath(key) == key \
        and "\\" not in key and "\x00" not in key


class SearchMixin(StoreBase):
    def search_runs(self, experiment_ids, filter_string="", run_view_type=None,
                    max_results=1000, order_by=None, page_token=None) -> PagedList:
        from skiff.search.evaluate import filter_runs, sort_runs
        from skiff.search.parser import parse_run_filter, parse_run_order_by

        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        comparisons = parse_run_filter(filter_string)
        order = parse_run_order_by(order_by)
        offset = offset_from_token(page_token)
        stages = LifecycleStage.view_type_to_stages(run_view_type)

        needed = {METRIC: set(), PARAM: set(), TAG: set()}
        need_inputs = False
        for clause in [*comparisons, *order]:
            if clause.entity in needed:
                needed[clause.entity].add(clause.key)
            elif clause.entity == DATASET:
                need_inputs = True
        on_data = [c for c in comparisons if c.entity != ATTRIBUTE]
        on_info = [c for c in comparisons if c.entity == ATTRIBUTE]

        folders: list[tuple[str, str, str]] = []  # (experiment ID, run ID, folder)
        for experiment_id in dict.fromkeys(str(e) for e in experiment_ids or []):
            exp_dir = self._experiment_dir(experiment_id)
            if exp_dir is not None:
                folders.extend((experiment_id, run_id, run_dir)
                               for run_id, run_dir in self._run_folders(exp_dir))

        if on_data:  # narrow down before parsing any meta.yaml
            partial = [self._partial_run(run_dir, RunInfo(run_id, experiment_id), needed,
                                         need_inputs)
                       for experiment_id, run_id, run_dir in folders]
            partial = filter_runs(partial, on_data)
        else:
            partial = [Run(RunInfo(run_id, experiment_id)) for experiment_id, run_id, _ in folders]
        where = {experiment_id + "/" + run_id: run_dir
                 for experiment_id, run_id, run_dir in folders}

        candidates = []
        for run in partial:
            run_dir = where[run.info.experiment_id + "/" + run.info.run_id]
            meta = self._run_meta_or_none(run_dir, run.info.run_id)
            if meta is None:
                continue
            try:
                info = self._run_info(run_dir, meta)
            except Exception as exc:  # a corrupt run must not break the listing
                warn_once("Skipping run folder %s: bad meta.yaml (%s)", run_dir, exc)
                continue
            if info.experiment_id != run.info.experiment_id or info.lifecycle_stage not in stages:
                continue
            if on_data:
                run.info = info
            else:
                run = self._partial_run(run_dir, info, needed, need_inputs)
            candidates.append(run)

        if on_info:
            candidates = filter_runs(candidates, on_info)
        ordered = sort_runs(candidates, order)
        end = offset + max_results
        page = ordered[offset:end]
        token = encode_token({"offset": end}) if end < len(ordered) else None
        return PagedList([
            self._load_run(where[r.info.experiment_id + "/" + r.info.run_id], r.info)
            for r in page
        ], token)

    def _partial_run(self, run_dir: str, info, needed: dict, need_inputs: bool) -> Run:
        data = RunData()
        if needed[METRIC]:
            base = os.path.join(run_dir, _layout.METRICS)
            for key in needed[METRIC]:
                if not _safe_key(key):
                    continue
                try:
                    metric = self._latest_metric(os.path.join(base, key), key)
                except _MISSING_FILE:
                    continue
                if metric is not None:
                    data.metric_objs.append(metric)
        for entity, folder, make, target in (
            (PARAM, _layout.PARAMS, Param, data.param_objs),
            (TAG, _layout.TAGS, RunTag, data.tag_objs),
        ):
            if not needed[entity]:
                continue
            base = os.path.join(run_dir, folder)
            for key in needed[entity]:
                if not _safe_key(key):
                    continue
                try:
                    target.append(make(key, self._read_raw(os.path.join(base, key))))
                except _MISSING_FILE:
                    continue
        inputs = self._read_inputs(run_dir) if need_inputs else RunInputs()
        return Run(info, data, inputs)
