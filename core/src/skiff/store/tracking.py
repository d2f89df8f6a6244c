"""The tracking store contract.

A tracking store plugin registers a factory ``factory(store_uri, artifact_uri) -> store``
through ``register_tracking_stores``; the store subclasses :class:`TrackingStore`.
Method names and arguments are MLflow's (``AbstractStore``), so code written against an
MLflow store reads the same. ``skiff.testing.contracts`` holds the test suite every store
must pass.

Stores validate their input with :mod:`skiff.validation` and raise
:class:`skiff.errors.SkiffException` with MLflow's error codes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from skiff.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from skiff.errors import SkiffException

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_THRESHOLD = 50000


class TrackingStore(ABC):
    """Experiments, runs, and what is logged to runs."""

    def __init__(self, store_uri: str | None = None, artifact_uri: str | None = None):
        self.store_uri = store_uri
        self.artifact_uri = artifact_uri

    # -- experiments -------------------------------------------------------------------
    @abstractmethod
    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: list | None = None) -> str:
        """Create an experiment and return its ID. Duplicate names (also of deleted
        experiments) raise RESOURCE_ALREADY_EXISTS."""

    def create_experiment_with_id(self, experiment_id: str, name: str,
                                  artifact_location: str | None = None,
                                  tags: list | None = None) -> str:
        """Optional: create an experiment under a chosen ID (``skiff migrate`` keeps IDs
        this way). A taken ID or name raises RESOURCE_ALREADY_EXISTS, an ID the store
        cannot hold INVALID_PARAMETER_VALUE; stores that allocate IDs themselves (REST)
        keep this default, which raises NOT_IMPLEMENTED."""
        raise _not_supported(self, "creating an experiment with a given ID")

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return the experiment, or raise RESOURCE_DOES_NOT_EXIST."""

    @abstractmethod
    def get_experiment_by_name(self, experiment_name: str) -> Experiment | None:
        """Return the experiment with this name (active or deleted), or None."""

    @abstractmethod
    def search_experiments(self, view_type=ViewType.ACTIVE_ONLY,
                           max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
                           filter_string: str | None = None, order_by: list | None = None,
                           page_token: str | None = None) -> PagedList[Experiment]:
        """One page of experiments matching the filter (grammar in skiff.search)."""

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete; its runs are soft-deleted with it."""

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Undo a soft delete."""

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment."""

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag) -> None:
        """Set (upsert) one experiment tag."""

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete one experiment tag; a missing key raises RESOURCE_DOES_NOT_EXIST."""

    # -- runs --------------------------------------------------------------------------
    @abstractmethod
    def create_run(self, experiment_id: str, user_id: str, start_time: int,
                   tags: list[RunTag], run_name: str | None) -> Run:
        """Create a RUNNING run. A missing run name is generated and kept in sync with
        the ``mlflow.runName`` tag."""

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with latest metrics, params, tags and inputs."""

    @abstractmethod
    def update_run_info(self, run_id: str, run_status, end_time: int | None,
                        run_name: str | None) -> RunInfo:
        """Update status, end time and name (when given)."""

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft delete: lifecycle_stage=deleted and a deleted_time."""

    @abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Undo a soft delete."""

    @abstractmethod
    def log_batch(self, run_id: str, metrics: list[Metric], params: list[Param],
                  tags: list[RunTag]) -> None:
        """Write everything or nothing. Params are immutable: a different value for a
        logged key raises INVALID_PARAMETER_VALUE before anything is written."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, [metric], [], [])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, [], [param], [])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, [], [], [tag])

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag; a missing key raises RESOURCE_DOES_NOT_EXIST."""

    @abstractmethod
    def get_metric_history(self, run_id: str, metric_key: str, max_results: int | None = None,
                           page_token: str | None = None) -> PagedList[Metric]:
        """Every point of one metric ordered by (step, timestamp); paged when max_results
        is given."""

    def get_metric_history_points(self, run_id: str, metric_key: str) -> list[tuple]:
        """The whole history of one metric as tuples whose first seven items are (key,
        value, timestamp, step, dataset_name, dataset_digest, model_id), in history order.
        For callers that only serialize the points (the server's get-history); stores
        override it to skip building a Metric per point."""
        return [(m.key, m.value, m.timestamp, m.step, m.dataset_name, m.dataset_digest,
                 m.model_id) for m in self.get_metric_history(run_id, metric_key)]

    def get_metric_history_bulk_interval(self, run_ids: list[str], metric_key: str,
                                         max_results: int, start_step: int | None = None,
                                         end_step: int | None = None) -> list[Metric]:
        """Up to ``max_results`` points per run spread evenly over the step range (always
        including the first and last step); each returned Metric has ``run_id`` set.
        Stores override this to do it without reading the whole history."""
        from skiff.store._sampling import sample_steps

        out = []
        for run_id in run_ids:
            history = list(self.get_metric_history(run_id, metric_key))
            if start_step is not None:
                history = [m for m in history if m.step >= start_step]
            if end_step is not None:
                history = [m for m in history if m.step <= end_step]
            wanted = sample_steps(sorted({m.step for m in history}), max_results)
            for m in history:
                if m.step in wanted:
                    m.run_id = run_id
                    out.append(m)
        return out

    @abstractmethod
    def search_runs(self, experiment_ids: list[str], filter_string: str = "",
                    run_view_type=ViewType.ACTIVE_ONLY,
                    max_results: int = SEARCH_MAX_RESULTS_DEFAULT, order_by: list | None = None,
                    page_token: str | None = None) -> PagedList[Run]:
        """One page of runs; default order start_time DESC, run_id ASC."""

    def search_runs_with_keys(self, experiment_ids: list[str], data_keys: dict,
                              filter_string: str = "", run_view_type=ViewType.ACTIVE_ONLY,
                              max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
                              order_by: list | None = None,
                              page_token: str | None = None) -> PagedList[Run]:
        """Optional: ``search_runs`` for a caller that shows a few columns of possibly very
        wide runs (the UI's runs table). ``data_keys`` maps "metrics", "params" and "tags"
        to the keys wanted (a missing kind: all of its keys). The same runs, order and token
        as ``search_runs``; each run's data holds at least the wanted keys it has. This
        default returns everything (a superset); stores that can load less override it."""
        return self.search_runs(experiment_ids, filter_string, run_view_type, max_results,
                                order_by, page_token)

    def search_runs_as_dicts(self, experiment_ids: list[str], filter_string: str = "",
                             run_view_type=ViewType.ACTIVE_ONLY,
                             max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
                             order_by: list | None = None,
                             page_token: str | None = None) -> PagedList[dict]:
        """Optional: ``search_runs`` with each run already in MLflow's JSON form (what
        ``Run.to_dict()`` returns), for a server answering ``runs/search``. The same runs,
        order and token as ``search_runs``. This default converts that page; a store that
        can write the dicts straight from its rows overrides it (building the entities
        only to turn them into dicts is most of a 1000-run page's Python time)."""
        page = self.search_runs(experiment_ids, filter_string, run_view_type, max_results,
                                order_by, page_token)
        return PagedList([run.to_dict() for run in page], page.token)

    @abstractmethod
    def log_inputs(self, run_id: str, datasets: list[DatasetInput] | None = None,
                   models: list | None = None) -> None:
        """Record dataset inputs (deduplicated per experiment by name and digest)."""

    def log_outputs(self, run_id: str, models: list) -> None:
        raise _not_supported(self, "log_outputs")

    # -- garbage collection (skiff gc) -----------------------------------------------------
    def _get_deleted_runs(self, older_than: int = 0) -> list[str]:
        """IDs of soft-deleted runs whose deleted_time is at least ``older_than`` ms ago."""
        raise _not_supported(self, "gc")

    def _hard_delete_run(self, run_id: str) -> None:
        raise _not_supported(self, "gc")

    def _hard_delete_experiment(self, experiment_id: str) -> None:
        raise _not_supported(self, "gc")

    # -- logged models (MLflow 3.x) ---------------------------------------------------------
    def create_logged_model(self, experiment_id: str, name: str | None = None,
                            source_run_id: str | None = None, tags: list | None = None,
                            params: list | None = None,
                            model_type: str | None = None) -> LoggedModel:
        raise _not_supported(self, "logged models")

    def get_logged_model(self, model_id: str) -> LoggedModel:
        raise _not_supported(self, "logged models")

    def finalize_logged_model(self, model_id: str, status) -> LoggedModel:
        raise _not_supported(self, "logged models")

    def delete_logged_model(self, model_id: str) -> None:
        raise _not_supported(self, "logged models")

    def set_logged_model_tags(self, model_id: str, tags: list) -> None:
        raise _not_supported(self, "logged models")

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        raise _not_supported(self, "logged models")

    def log_logged_model_params(self, model_id: str, params: list) -> None:
        raise _not_supported(self, "logged models")

    def search_logged_models(self, experiment_ids: list[str], filter_string: str | None = None,
                             datasets: list | None = None, max_results: int | None = None,
                             order_by: list | None = None,
                             page_token: str | None = None) -> PagedList[LoggedModel]:
        raise _not_supported(self, "logged models")


def _not_supported(store, what: str) -> SkiffException:
    return SkiffException(f"{type(store).__name__} does not support {what}", "NOT_IMPLEMENTED")
