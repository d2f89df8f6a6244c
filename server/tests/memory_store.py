"""A small in-memory tracking store for the server's tests (a real TrackingStore, no mocks),
registered under the ``memory:`` scheme by :data:`MemoryStorePlugin`. Filtering and ordering
use skiff.search when it is installed; without it only the default order applies."""

from __future__ import annotations

import threading
import time
import uuid

from skiff.entities import (
    Experiment,
    LoggedModel,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
    ViewType,
)
from skiff.entities.enums import LifecycleStage
from skiff.errors import SkiffException
from skiff.plugins import hookimpl
from skiff.search.paging import page_by_offset
from skiff.store.tracking import TrackingStore
from skiff.utils.uri import append_to_uri_path


def _now() -> int:
    return int(time.time() * 1000)


def _missing(what: str) -> SkiffException:
    return SkiffException(what, "RESOURCE_DOES_NOT_EXIST")


class MemoryStore(TrackingStore):
    def __init__(self, store_uri=None, artifact_uri=None):
        super().__init__(store_uri, artifact_uri or "mlflow-artifacts:/")
        self.lock = threading.RLock()
        self.experiments: dict[str, Experiment] = {}
        self.runs: dict[str, Run] = {}
        self.history: dict[tuple[str, str], list] = {}
        self.models: dict[str, LoggedModel] = {}
        self.next_id = 1
        self.experiments["0"] = Experiment("0", "Default", self._location("0"),
                                           creation_time=_now(), last_update_time=_now())

    def _location(self, experiment_id: str) -> str:
        return append_to_uri_path(self.artifact_uri, experiment_id)

    # experiments
    def create_experiment(self, name, artifact_location=None, tags=None):
        with self.lock:
            if self.get_experiment_by_name(name) is not None:
                raise SkiffException(f"Experiment(name={name}) already exists.",
                                     "RESOURCE_ALREADY_EXISTS")
            eid = str(self.next_id)
            self.next_id += 1
            self.experiments[eid] = Experiment(
                eid, name, artifact_location or self._location(eid),
                tags={t.key: t.value for t in tags or []}, creation_time=_now(),
                last_update_time=_now())
            return eid

    def get_experiment(self, experiment_id):
        exp = self.experiments.get(str(experiment_id))
        if exp is None:
            raise _missing(f"No Experiment with id={experiment_id} exists")
        return exp

    def get_experiment_by_name(self, experiment_name):
        return next((e for e in self.experiments.values() if e.name == experiment_name), None)

    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY, max_results=1000,
                           filter_string=None, order_by=None, page_token=None):
        stages = LifecycleStage.view_type_to_stages(view_type)
        exps = [e for e in self.experiments.values() if e.lifecycle_stage in stages]
        exps.sort(key=lambda e: (-(e.creation_time or 0), e.experiment_id))
        try:
            from skiff.search import evaluate, parser
        except ImportError:
            pass
        else:
            exps = evaluate.filter_experiments(exps, parser.parse_experiment_filter(
                filter_string or ""))
            if order_by:
                exps = evaluate.sort_experiments(exps,
                                                 parser.parse_experiment_order_by(order_by))
        page, token = page_by_offset(exps, max_results, page_token)
        return PagedList(page, token)

    def delete_experiment(self, experiment_id):
        self.get_experiment(experiment_id).lifecycle_stage = LifecycleStage.DELETED

    def restore_experiment(self, experiment_id):
        self.get_experiment(experiment_id).lifecycle_stage = LifecycleStage.ACTIVE

    def rename_experiment(self, experiment_id, new_name):
        self.get_experiment(experiment_id).name = new_name

    def set_experiment_tag(self, experiment_id, tag):
        self.get_experiment(experiment_id).tags[tag.key] = tag.value

    def delete_experiment_tag(self, experiment_id, key):
        tags = self.get_experiment(experiment_id).tags
        if key not in tags:
            raise _missing(f"No tag with name: {key} in experiment {experiment_id}")
        del tags[key]

    # runs
    def create_run(self, experiment_id, user_id, start_time, tags, run_name):
        exp = self.get_experiment(experiment_id)
        run_id = uuid.uuid4().hex
        tags = list(tags or [])
        tag_name = next((t.value for t in tags if t.key == "mlflow.runName"), None)
        run_name = run_name or tag_name or f"run-{run_id[:6]}"
        if tag_name is None:
            tags.append(RunTag("mlflow.runName", run_name))
        info = RunInfo(run_id, exp.experiment_id, user_id or "", "RUNNING", start_time, None,
                       LifecycleStage.ACTIVE,
                       append_to_uri_path(exp.artifact_location, run_id, "artifacts"),
                       run_name)
        run = Run(info, RunData([], [], tags), RunInputs(), RunOutputs())
        self.runs[run_id] = run
        return run

    def get_run(self, run_id):
        run = self.runs.get(run_id)
        if run is None:
            raise _missing(f"Run with id={run_id} not found")
        return run

    def update_run_info(self, run_id, run_status, end_time, run_name):
        info = self.get_run(run_id).info
        info.status = run_status
        if end_time is not None:
            info.end_time = end_time
        if run_name:
            info.run_name = run_name
            self._set_tags(self.get_run(run_id), [RunTag("mlflow.runName", run_name)])
        return info

    def delete_run(self, run_id):
        self.get_run(run_id).info.lifecycle_stage = LifecycleStage.DELETED

    def restore_run(self, run_id):
        self.get_run(run_id).info.lifecycle_stage = LifecycleStage.ACTIVE

    def _set_tags(self, run, tags):
        data = run.data
        keep = {t.key: t for t in data.tag_objs}
        keep.update({t.key: t for t in tags})
        data.tag_objs[:] = list(keep.values())

    def log_batch(self, run_id, metrics, params, tags):
        with self.lock:
            run = self.get_run(run_id)
            if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
                raise SkiffException.invalid_parameter_value(
                    f"The run {run_id} must be in the 'active' state.")
            logged = run.data.params
            for p in params:
                if p.key in logged and logged[p.key] != p.value:
                    raise SkiffException.invalid_parameter_value(
                        f"Changing param values is not allowed. Param with key='{p.key}' was "
                        f"already logged with value='{logged[p.key]}' for run ID='{run_id}'. "
                        f"Attempted logging new value '{p.value}'.")
            run.data.param_objs.extend(p for p in params if p.key not in logged)
            self._set_tags(run, tags)
            latest = {m.key: m for m in run.data.metric_objs}
            for m in metrics:
                self.history.setdefault((run_id, m.key), []).append(m)
                old = latest.get(m.key)
                if old is None or (m.step, m.timestamp, m.value) >= (
                        old.step, old.timestamp, old.value):
                    latest[m.key] = m
            run.data.metric_objs[:] = list(latest.values())

    def delete_tag(self, run_id, key):
        run = self.get_run(run_id)
        if key not in run.data.tags:
            raise _missing(f"No tag with name: {key} in run with id {run_id}")
        run.data.tag_objs[:] = [t for t in run.data.tag_objs if t.key != key]

    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        self.get_run(run_id)
        points = sorted(self.history.get((run_id, metric_key), []),
                        key=lambda m: (m.step, m.timestamp))
        if max_results is None:
            return PagedList(points)
        page, token = page_by_offset(points, max_results, page_token)
        return PagedList(page, token)

    def search_runs(self, experiment_ids, filter_string="", run_view_type=ViewType.ACTIVE_ONLY,
                    max_results=1000, order_by=None, page_token=None):
        stages = LifecycleStage.view_type_to_stages(run_view_type)
        ids = {str(e) for e in experiment_ids}
        runs = [r for r in self.runs.values()
                if r.info.experiment_id in ids and r.info.lifecycle_stage in stages]
        runs.sort(key=lambda r: r.info.run_id)
        runs.sort(key=lambda r: -(r.info.start_time or 0))
        try:
            from skiff.search import evaluate, parser
        except ImportError:
            pass
        else:
            runs = evaluate.filter_runs(runs, parser.parse_run_filter(filter_string or ""))
            runs = evaluate.sort_runs(runs, parser.parse_run_order_by(order_by or None))
        page, token = page_by_offset(runs, max_results, page_token)
        return PagedList(page, token)

    def log_inputs(self, run_id, datasets=None, models=None):
        inputs = self.get_run(run_id).inputs
        inputs.dataset_inputs.extend(datasets or [])
        inputs.model_inputs.extend(models or [])

    def log_outputs(self, run_id, models):
        self.get_run(run_id).outputs.model_outputs.extend(models)

    # logged models
    def create_logged_model(self, experiment_id, name=None, source_run_id=None, tags=None,
                            params=None, model_type=None):
        exp = self.get_experiment(experiment_id)
        model_id = f"m-{uuid.uuid4().hex}"
        model = LoggedModel(
            model_id, exp.experiment_id, name or model_id,
            append_to_uri_path(exp.artifact_location, "models", model_id, "artifacts"),
            _now(), _now(), model_type=model_type, source_run_id=source_run_id,
            tags={t.key: t.value for t in tags or []},
            params={p.key: p.value for p in params or []})
        self.models[model_id] = model
        return model

    def get_logged_model(self, model_id):
        model = self.models.get(model_id)
        if model is None:
            raise _missing(f"Logged model with ID '{model_id}' not found.")
        return model

    def finalize_logged_model(self, model_id, status):
        model = self.get_logged_model(model_id)
        model.status = status
        model.last_updated_timestamp = _now()
        return model

    def delete_logged_model(self, model_id):
        self.get_logged_model(model_id)
        del self.models[model_id]

    def set_logged_model_tags(self, model_id, tags):
        self.get_logged_model(model_id).tags.update({t.key: t.value for t in tags})

    def delete_logged_model_tag(self, model_id, key):
        tags = self.get_logged_model(model_id).tags
        if key not in tags:
            raise _missing(f"No tag with key {key!r} on logged model {model_id}")
        del tags[key]

    def log_logged_model_params(self, model_id, params):
        self.get_logged_model(model_id).params.update({p.key: p.value for p in params})

    def search_logged_models(self, experiment_ids, filter_string=None, datasets=None,
                             max_results=None, order_by=None, page_token=None):
        ids = {str(e) for e in experiment_ids}
        models = sorted((m for m in self.models.values() if m.experiment_id in ids),
                        key=lambda m: -m.creation_timestamp)
        page, token = page_by_offset(models, max_results or 50, page_token)
        return PagedList(page, token)


_stores: dict[str, MemoryStore] = {}


class MemoryStorePlugin:
    """Registers ``memory://<name>``: one shared store per name for the process."""

    @staticmethod
    @hookimpl
    def register_tracking_stores(register):
        def factory(store_uri, artifact_uri=None):
            store = _stores.get(store_uri)
            if store is None:
                store = _stores[store_uri] = MemoryStore(store_uri, artifact_uri)
            return store

        register("memory", factory)
