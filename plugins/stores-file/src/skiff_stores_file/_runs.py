"""Runs: ``<exp>/<run_id>/`` with meta.yaml, metrics/, params/, tags/, artifacts/."""

from __future__ import annotations

import os
import shutil
import time
import uuid

from skiff.entities import (
    LifecycleStage,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunTag,
)
from skiff.errors import SkiffException
from skiff.search.paging import page_by_offset
from skiff.utils.uri import append_to_uri_path
from skiff.validation import (
    validate_batch,
    validate_key_name,
    validate_max_results,
    validate_tag,
)
from skiff_stores_file import _files, _layout, _metrics
from skiff_stores_file._base import StoreBase, invalid, not_found, warn_once
from skiff_stores_file._files import META, CorruptFileError

_LOGGED_MODELS_TAG = "mlflow.log-model.history"


def _now() -> int:
    return int(time.time() * 1000)


def _generate_run_name() -> str:
    try:
        from skiff.tracking._names import generate_run_name
    except ImportError:  # pragma: no cover - older core
        return f"run-{uuid.uuid4().hex[:8]}"
    return generate_run_name()


class RunsMixin(StoreBase):
    # -- create / read -------------------------------------------------------------------
    def create_run(self, experiment_id, user_id, start_time, tags, run_name) -> Run:
        experiment_id = _layout.DEFAULT_EXPERIMENT_ID if experiment_id is None \
            else str(experiment_id)
        exp_dir = self._experiment_dir(experiment_id)
        if exp_dir is None:
            raise not_found(f"Could not create run under experiment with ID {experiment_id}: "
                            "no such experiment exists.")
        if os.path.dirname(exp_dir) == self.trash:
            raise invalid(f"The experiment {experiment_id} must be in the 'active' state. "
                          "Current state is deleted.")
        tags = [RunTag(t.key, validate_tag(t.key, t.value)) for t in (tags or [])]
        _files.check_keys_fit([t.key for t in tags], "tag")
        name_tag = next((t.value for t in tags if t.key == _layout.RUN_NAME_TAG), None)
        if run_name and name_tag and run_name != name_tag:
            raise invalid(
                f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{name_tag}')."
            )
        run_name = run_name or name_tag or _generate_run_name()
        if not name_tag:
            tags.append(RunTag(_layout.RUN_NAME_TAG, run_name))
        artifact_location = self._read_meta(exp_dir).get("artifact_location") or \
            append_to_uri_path(self.artifact_root_uri, experiment_id)
        run_id = uuid.uuid4().hex
        info = RunInfo(
            run_id=run_id, experiment_id=experiment_id, user_id=user_id or "",
            status="RUNNING", start_time=_now() if start_time is None else int(start_time),
            end_time=None, lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=append_to_uri_path(artifact_location, run_id, _layout.ARTIFACTS),
            run_name=run_name,
        )
        run_dir = os.path.join(exp_dir, run_id)
        # MLflow recognises a run folder by these three sub-folders.
        for sub in (_layout.METRICS, _layout.PARAMS, _layout.ARTIFACTS, _layout.TAGS):
            os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
        for tag in tags:
            self._write_tag(run_dir, tag.key, tag.value)
        meta = _layout.run_meta(info)
        meta["deleted_time"] = None
        self._write_meta(run_dir, meta)
        self._run_dirs[run_id] = run_dir
        return Run(info, RunData(tag_objs=[RunTag(t.key, t.value) for t in
                                           {t.key: t for t in tags}.values()]))

    def get_run(self, run_id) -> Run:
        run_dir, meta = self._run_meta(run_id)
        return self._load_run(run_dir, self._run_info(run_dir, meta))

    def _load_run(self, run_dir: str, info: RunInfo) -> Run:
        data = RunData(
            metric_objs=self._latest_metrics(run_dir),
            param_objs=[Param(k, v) for k, v in
                        self._read_key_files(os.path.join(run_dir, _layout.PARAMS)).items()],
            tag_objs=[RunTag(k, v) for k, v in
                      self._read_key_files(os.path.join(run_dir, _layout.TAGS)).items()],
        )
        return Run(info, data, self._read_inputs(run_dir), self._read_outputs(run_dir))

    def _latest_metric(self, path: str, key: str, stat_result=None):
        point = self._cache.get(path, _metrics.latest_point, stat_result)
        return None if point is None else _metrics.to_metric(key, point)

    def _latest_metrics(self, run_dir: str) -> list:
        out = []
        for key, path in _files.list_files(os.path.join(run_dir, _layout.METRICS)):
            try:
                metric = self._latest_metric(path, key)
            except FileNotFoundError:
                continue
            if metric is not None:
                out.append(metric)
        return out

    # -- update ------------------------------------------------------------------------
    def update_run_info(self, run_id, run_status, end_time, run_name) -> RunInfo:
        run_dir, _ = self._active_run(run_id)

        def change(meta):
            if run_status is not None:
                meta["status"] = _layout.status_number(run_status)
            if end_time is not None:
                meta["end_time"] = int(end_time)
            if run_name:
                meta["run_name"] = run_name

        if run_name:
            run_name = validate_tag(_layout.RUN_NAME_TAG, run_name)
            self._write_tag(run_dir, _layout.RUN_NAME_TAG, run_name)
        meta = self._update_run_meta(run_dir, change)
        return self._run_info(run_dir, meta)

    def _set_stage(self, run_id, stage: str) -> None:
        run_dir, _ = self._run_meta(run_id)

        def change(meta):
            meta["lifecycle_stage"] = stage
            if stage == LifecycleStage.DELETED:
                meta["deleted_time"] = _now()
            else:
                meta.pop("deleted_time", None)

        self._update_run_meta(run_dir, change)

    def delete_run(self, run_id) -> None:
        self._set_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id) -> None:
        self._set_stage(run_id, LifecycleStage.ACTIVE)

    # -- logging -----------------------------------------------------------------------
    def _write_tag(self, run_dir: str, key: str, value: str) -> None:
        _files.atomic_write(os.path.join(run_dir, _layout.TAGS, key), value, tmp_dir=run_dir)

    def log_batch(self, run_id, metrics, params, tags) -> None:
        metrics, params, tags = list(metrics or []), list(params or []), list(tags or [])
        params, tags = validate_batch(metrics, params, tags)
        run_dir, _ = self._active_run(run_id)
        params_dir = os.path.join(run_dir, _layout.PARAMS)
        _files.check_keys_fit({m.key for m in metrics}, "metric",
                              os.path.join(run_dir, _layout.METRICS))
        _files.check_keys_fit({p.key for p in params}, "param", params_dir)
        _files.check_keys_fit({t.key for t in tags}, "tag", os.path.join(run_dir, _layout.TAGS))
        # a metric's model ID may name a model folder not made yet (see _append_model_metrics)
        _files.check_keys_fit({m.model_id for m in metrics if m.model_id}, "model ID")
        fresh = []
        for param in params:  # every conflict is found before anything is written
            existing = self._existing_param(params_dir, param.key)
            if existing is None:
                fresh.append(param)
            elif existing != param.value:
                raise _param_conflict(run_id, param.key, existing, param.value)
        for param in fresh:
            path = os.path.join(params_dir, param.key)
            if not _files.create_once(path, param.value, tmp_dir=run_dir):
                existing = self._existing_param(params_dir, param.key)
                if existing != param.value:  # another writer won the race
                    raise _param_conflict(run_id, param.key, existing, param.value)
        if metrics:
            self._append_metrics(run_dir, run_id, metrics)
        for tag in tags:
            self._write_tag(run_dir, tag.key, tag.value)
        renamed = [t.value for t in tags if t.key == _layout.RUN_NAME_TAG]
        if renamed:
            self._update_run_meta(run_dir, lambda m: m.__setitem__("run_name", renamed[-1]))

    def _existing_param(self, params_dir: str, key: str) -> str | None:
        try:
            return self._read_raw(os.path.join(params_dir, key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def _append_metrics(self, run_dir: str, run_id: str, metrics) -> None:
        by_key: dict[str, list[str]] = {}
        for metric in metrics:
            by_key.setdefault(metric.key, []).append(_metrics.format_line(metric))
        metrics_dir = os.path.join(run_dir, _layout.METRICS)
        for key, lines in by_key.items():
            _files.append_bytes(os.path.join(metrics_dir, key), "".join(lines).encode())
        linked = [m for m in metrics if m.model_id]
        if linked:
            self._append_model_metrics(os.path.dirname(run_dir), run_id, linked)

    def log_metric(self, run_id, metric) -> None:
        self.log_batch(run_id, [metric], [], [])

    def log_param(self, run_id, param) -> None:
        self.log_batch(run_id, [], [param], [])

    def set_tag(self, run_id, tag) -> None:
        self.log_batch(run_id, [], [], [tag])

    def record_logged_model(self, run_id, mlflow_model) -> None:
        """Append a model's dict to the run tag ``mlflow.log-model.history`` (MLflow 2.x
        ``log_model``), under the run folder's lock so concurrent calls keep every entry."""
        import json

        model = mlflow_model if isinstance(mlflow_model, dict) else mlflow_model.to_dict()
        run_dir, _ = self._active_run(run_id)
        path = os.path.join(run_dir, _layout.TAGS, _LOGGED_MODELS_TAG)
        with _files.locked(run_dir):
            try:
                history = json.loads(_files.read_text(path))
            except FileNotFoundError:
                history = []
            self._write_tag(run_dir, _LOGGED_MODELS_TAG, json.dumps([*history, model]))

    def delete_tag(self, run_id, key) -> None:
        validate_key_name(key, "tag")
        _files.check_keys_fit([key], "tag")
        run_dir, _ = self._active_run(run_id)
        try:
            os.remove(os.path.join(run_dir, _layout.TAGS, key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise not_found(f"No tag with name: {key} in run with id {run_id}") from None

    # -- metric history ----------------------------------------------------------------
    def _history_points(self, run_id, metric_key) -> list:
        validate_key_name(metric_key, "metric")
        _files.check_keys_fit([metric_key], "metric")
        run_dir, _ = self._run_meta(run_id)
        path = os.path.join(run_dir, _layout.METRICS, metric_key)
        try:
            text = _files.read_text(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return []
        points = _metrics.parse_points(text, path)
        points.sort(key=lambda p: (p[0], p[1]))
        return points

    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        points = self._history_points(run_id, metric_key)
        history = [_metrics.to_metric(metric_key, p) for p in points]
        if max_results is None:
            from skiff.search.paging import offset_from_token

            return PagedList(history[offset_from_token(page_token):], None)
        max_results = validate_max_results(max_results, 2**31)
        page, token = page_by_offset(history, max_results, page_token)
        return PagedList(page, token)

    def get_metric_history_bulk_interval(self, run_ids, metric_key, max_results,
                                         start_step=None, end_step=None):
        from skiff.store._sampling import sample_steps

        out = []
        for run_id in run_ids:
            points = self._history_points(run_id, metric_key)
            if start_step is not None:
                points = [p for p in points if p[0] >= start_step]
            if end_step is not None:
                points = [p for p in points if p[0] <= end_step]
            wanted = sample_steps(sorted({p[0] for p in points}), max_results)
            out.extend(_metrics.to_metric(metric_key, p, run_id=run_id)
                       for p in points if p[0] in wanted)
        return out

    # -- garbage collection ------------------------------------------------------------
    def _get_deleted_runs(self, older_than=0) -> list[str]:
        now = _now()
        deleted = []
        for _, exp_dir in self._experiment_dirs():
            for run_dir, meta in self._iter_run_metas(exp_dir):
                info_stage = meta.get("lifecycle_stage") or LifecycleStage.ACTIVE
                if info_stage != LifecycleStage.DELETED and not self._in_trash(run_dir):
                    continue
                try:
                    deleted_time = meta.get("deleted_time")
                    if deleted_time is None or now - int(deleted_time) >= older_than:
                        deleted.append(str(meta.get("run_id") or meta.get("run_uuid")))
                except (TypeError, ValueError) as exc:
                    warn_once("Skipping run folder %s: bad deleted_time (%s)", run_dir, exc)
        return deleted

    def _hard_delete_run(self, run_id) -> None:
        run_dir, _ = self._run_meta(run_id)
        shutil.rmtree(run_dir)
        self._run_dirs.pop(run_id, None)
        self._cache.forget_under(run_dir)

    def _run_folders(self, exp_dir: str) -> list[tuple[str, str]]:
        """(run ID, folder) of the folders of an experiment that may be runs."""
        return [(entry.name, entry.path) for entry in _files.list_dirs(exp_dir)
                if entry.name not in _layout.RESERVED_EXPERIMENT_FOLDERS
                and not entry.name.startswith(".")]

    def _run_meta_or_none(self, run_dir: str, run_id: str) -> dict | None:
        """A run folder's meta, or None: quietly for folders that are not runs, with a
        warning for corrupt ones."""
        try:
            meta = self._read_meta(run_dir)
            found = meta.get("run_id") or meta.get("run_uuid")
            if str(found) != run_id:
                raise CorruptFileError(f"run_id {found!r} does not match the folder")
            return meta
        except FileNotFoundError:
            return None
        except (CorruptFileError, AttributeError) as exc:
            warn_once("Skipping run folder %s: unreadable %s (%s)", run_dir, META, exc)
            return None

    def _iter_run_metas(self, exp_dir: str):
        """(run folder, meta) of each readable run of an experiment; corrupt ones are
        reported and skipped."""
        for run_id, run_dir in self._run_folders(exp_dir):
            meta = self._run_meta_or_none(run_dir, run_id)
            if meta is not None:
                yield run_dir, meta


def _param_conflict(run_id, key, old, new) -> SkiffException:
    return invalid(
        f"Changing param values is not allowed. Param with key='{key}' was already logged "
        f"with value='{old}' for run ID='{run_id}'. Attempted logging new value '{new}'."
    )
