"""MLflow 3.x logged models: ``<exp>/models/<model_id>/`` with meta.yaml, params/, tags/,
metrics/ (lines ``ts value step run_id[ dataset_name dataset_digest]``)."""

from __future__ import annotations

import os
import re
import time
import uuid

from skiff.entities import LifecycleStage, LoggedModel, LoggedModelStatus, PagedList
from skiff.errors import SkiffException
from skiff.search.ast import ATTRIBUTE, METRIC, NUMERIC_COMPARATORS, PARAM, TAG
from skiff.search.paging import page_by_offset
from skiff.utils.uri import append_to_uri_path
from skiff.validation import validate_key_name, validate_param, validate_tag
from skiff_stores_file import _files, _layout, _metrics
from skiff_stores_file._base import StoreBase, invalid, not_found, warn_once
from skiff_stores_file._files import META, CorruptFileError

_MODEL_ID = re.compile(r"^[\w\-]{1,256}$")
SEARCH_LOGGED_MODELS_DEFAULT = 100


def _now() -> int:
    return int(time.time() * 1000)


def _status_number(status) -> int:
    if isinstance(status, str) and not status.isdigit():
        name = status.upper()
        if not name.startswith("LOGGED_MODEL_"):
            name = "LOGGED_MODEL_" + name
        return LoggedModelStatus.from_string(name)
    number = int(status)
    LoggedModelStatus.to_string(number)
    return number


def _logged_model_grammar():
    from skiff.search.grammars import INTEGER, STRING, STRING_OPS, Field, Grammar

    text = Field(STRING, STRING_OPS)
    stamp = Field(INTEGER, NUMERIC_COMPARATORS)
    keys = ("name", "model_id", "model_type", "status", "source_run_id")
    return Grammar(
        kind="logged model",
        attributes={**{k: text for k in keys}, "creation_timestamp": stamp,
                    "last_updated_timestamp": stamp},
        attribute_aliases={"creation_time": "creation_timestamp",
                           "last_updated_time": "last_updated_timestamp"},
        entity_fields={METRIC: Field("float", NUMERIC_COMPARATORS), PARAM: text, TAG: text},
        order_by_attributes=(*keys, "creation_timestamp", "last_updated_timestamp"),
        order_by_entities=(METRIC, PARAM, TAG),
        default_order=((ATTRIBUTE, "creation_timestamp", False), (ATTRIBUTE, "model_id", True)),
    )


def _model_getter(entity: str, key: str):
    if entity == METRIC:
        def metric(model):
            values = [m for m in model.metrics if m.key == key]
            return max(values, key=lambda m: (m.step, m.timestamp)).value if values else None
        return metric
    if entity == PARAM:
        return lambda model: model.params.get(key)
    if entity == TAG:
        return lambda model: model.tags.get(key)
    return lambda model: getattr(model, key, None)


class LoggedModelsMixin(StoreBase):
    _model_dirs: dict[str, str]

    def _model_dir(self, model_id) -> str:
        if not isinstance(model_id, str) or not _MODEL_ID.match(model_id):
            raise invalid(f"Invalid model ID: {model_id!r}")
        cached = self._model_dirs.get(model_id)
        if cached and os.path.isfile(os.path.join(cached, META)):
            return cached
        for _, exp_dir in self._experiment_dirs():
            candidate = os.path.join(exp_dir, _layout.MODELS, model_id)
            if os.path.isfile(os.path.join(candidate, META)):
                self._model_dirs[model_id] = candidate
                return candidate
        raise not_found(f"Logged model with ID '{model_id}' not found")

    def _model_meta(self, model_id) -> tuple[str, dict]:
        directory = self._model_dir(model_id)
        meta = self._read_meta(directory)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise not_found(f"Logged model with ID '{model_id}' not found")
        return directory, meta

    def _load_model(self, directory: str, meta: dict) -> LoggedModel:
        model_id = str(meta["model_id"])
        metrics = []
        for key, path in _files.list_files(os.path.join(directory, _layout.METRICS)):
            try:
                points = self._cache.get(path, _metrics.latest_by_dataset)
            except FileNotFoundError:
                continue
            metrics.extend(_metrics.to_metric(key, p, model_id=model_id) for p in points)
        status = meta.get("status", LoggedModelStatus.PENDING)
        return LoggedModel(
            model_id=model_id,
            experiment_id=str(meta["experiment_id"]),
            name=str(meta.get("name") or ""),
            artifact_location=str(meta.get("artifact_location") or ""),
            creation_timestamp=int(meta.get("creation_timestamp") or 0),
            last_updated_timestamp=int(meta.get("last_updated_timestamp") or 0),
            status=LoggedModelStatus.to_string(_status_number(status)),
            model_type=meta.get("model_type"),
            source_run_id=meta.get("source_run_id"),
            status_message=meta.get("status_message"),
            tags=self._read_key_files(os.path.join(directory, _layout.TAGS)),
            params=self._read_key_files(os.path.join(directory, _layout.PARAMS)),
            metrics=metrics,
        )

    def create_logged_model(self, experiment_id, name=None, source_run_id=None, tags=None,
                            params=None, model_type=None) -> LoggedModel:
        from skiff_stores_file._runs import _generate_run_name

        experiment_id = str(experiment_id)
        exp_dir = self._experiment_dir(experiment_id)
        if exp_dir is None:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        if os.path.dirname(exp_dir) == self.trash:
            raise invalid(f"Could not create a model in the deleted experiment {experiment_id}")
        if name is not None and ("/" in name or ":" in name):
            raise invalid(f"Invalid model name {name!r}: it may not contain '/' or ':'")
        params = [(p.key, validate_param(p.key, p.value)) for p in params or []]
        tags = [(t.key, validate_tag(t.key, t.value)) for t in tags or []]
        _files.check_keys_fit([key for key, _ in params], "param")
        _files.check_keys_fit([key for key, _ in tags], "tag")
        model_id = f"m-{uuid.uuid4().hex}"
        location = self._read_meta(exp_dir).get("artifact_location") or \
            append_to_uri_path(self.artifact_root_uri, experiment_id)
        now = _now()
        directory = os.path.join(exp_dir, _layout.MODELS, model_id)
        for sub in (_layout.METRICS, _layout.PARAMS, _layout.TAGS):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        self._write_model_files(directory, _layout.PARAMS, params)
        self._write_model_files(directory, _layout.TAGS, tags)
        self._write_meta(directory, {
            "artifact_location": append_to_uri_path(location, _layout.MODELS, model_id,
                                                    _layout.ARTIFACTS),
            "creation_timestamp": now,
            "experiment_id": experiment_id,
            "last_updated_timestamp": now,
            "lifecycle_stage": LifecycleStage.ACTIVE,
            "model_id": model_id,
            "model_type": model_type,
            "name": name or _generate_run_name(),
            "source_run_id": source_run_id,
            "status": LoggedModelStatus.PENDING,
            "status_message": None,
        })
        self._model_dirs[model_id] = directory
        return self.get_logged_model(model_id)

    def _write_model_files(self, directory: str, folder: str, items) -> None:
        _files.check_keys_fit([key for key, _ in items], folder.rstrip("s"),
                              os.path.join(directory, folder))
        for key, value in items:
            _files.atomic_write(os.path.join(directory, folder, key), value, tmp_dir=directory)

    def get_logged_model(self, model_id) -> LoggedModel:
        directory, meta = self._model_meta(model_id)
        return self._load_model(directory, meta)

    def _update_model_meta(self, model_id, change) -> None:
        directory, _ = self._model_meta(model_id)
        with _files.locked(directory):
            meta = dict(_files.read_yaml(os.path.join(directory, META)))
            change(meta)
            meta["last_updated_timestamp"] = _now()
            self._write_meta(directory, meta)

    def finalize_logged_model(self, model_id, status) -> LoggedModel:
        number = _status_number(status)
        self._update_model_meta(model_id, lambda m: m.__setitem__("status", number))
        return self.get_logged_model(model_id)

    def delete_logged_model(self, model_id) -> None:
        self._update_model_meta(
            model_id, lambda m: m.__setitem__("lifecycle_stage", LifecycleStage.DELETED))

    def set_logged_model_tags(self, model_id, tags) -> None:
        tags = [(t.key, validate_tag(t.key, t.value)) for t in tags or []]
        directory, _ = self._model_meta(model_id)
        self._write_model_files(directory, _layout.TAGS, tags)

    def delete_logged_model_tag(self, model_id, key) -> None:
        validate_key_name(key, "tag")
        _files.check_keys_fit([key], "tag")
        directory, _ = self._model_meta(model_id)
        try:
            os.remove(os.path.join(directory, _layout.TAGS, key))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise not_found(f"No tag with key {key!r} on logged model {model_id!r}") from None

    def log_logged_model_params(self, model_id, params) -> None:
        params = [(p.key, validate_param(p.key, p.value)) for p in params or []]
        directory, _ = self._model_meta(model_id)
        self._write_model_files(directory, _layout.PARAMS, params)

    def _append_model_metrics(self, exp_dir: str, run_id: str, metrics) -> None:
        by_path: dict[str, list[str]] = {}
        for metric in metrics:
            try:
                directory = self._model_dir(metric.model_id)
            except SkiffException:
                directory = os.path.join(exp_dir, _layout.MODELS, metric.model_id)
                if not _MODEL_ID.match(metric.model_id):
                    raise
            path = os.path.join(directory, _layout.METRICS, metric.key)
            by_path.setdefault(path, []).append(_metrics.format_line(metric, run_id=run_id))
        for path, lines in by_path.items():
            _files.append_bytes(path, "".join(lines).encode())

    def search_logged_models(self, experiment_ids, filter_string=None, datasets=None,
                             max_results=None, order_by=None, page_token=None) -> PagedList:
        from skiff.search.evaluate import _sort, compile_filter
        from skiff.search.parser import parse_filter, parse_order_by

        grammar = _logged_model_grammar()
        comparisons = parse_filter(filter_string, grammar)
        order = parse_order_by([_order_text(o) for o in order_by or []], grammar)
        models = []
        for experiment_id in dict.fromkeys(str(e) for e in experiment_ids or []):
            exp_dir = self._experiment_dir(experiment_id)
            if exp_dir is None:
                continue
            for entry in _files.list_dirs(os.path.join(exp_dir, _layout.MODELS)):
                try:
                    meta = self._read_meta(entry.path)
                    if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
                        continue
                    models.append(self._load_model(entry.path, meta))
                except FileNotFoundError:
                    continue
                except (CorruptFileError, KeyError, ValueError, SkiffException) as exc:
                    warn_once("Skipping logged model folder %s: %s", entry.path, exc)
        if datasets:
            wanted = {(d.get("dataset_name"), d.get("dataset_digest")) for d in datasets}
            models = [m for m in models if any(
                (x.dataset_name, x.dataset_digest) in wanted
                or (x.dataset_name, None) in wanted for x in m.metrics)]
        keep = compile_filter(comparisons, _model_getter, grammar)
        models = _sort([m for m in models if keep(m)], order, _model_getter, grammar)
        page, token = page_by_offset(models, int(max_results or SEARCH_LOGGED_MODELS_DEFAULT),
                                     page_token)
        return PagedList(page, token)


def _order_text(item) -> str:
    """MLflow sends order_by as objects ``{field_name, ascending}``; strings work too."""
    if isinstance(item, str):
        return item
    field = item.get("field_name") if isinstance(item, dict) else item.field_name
    ascending = item.get("ascending", True) if isinstance(item, dict) else \
        getattr(item, "ascending", True)
    return f"{field} {'ASC' if ascending in (True, None) else 'DESC'}"
