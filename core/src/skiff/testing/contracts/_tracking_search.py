"""Contract tests: search_runs, inputs, garbage collection and logged models."""

from __future__ import annotations

import re
import time

import pytest

from skiff.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff.testing.contracts._tracking_base import (
    ContractBase,
    raises_code,
)


class SearchContract(ContractBase):
    # -- search_runs ----------------------------------------------------------------------
    def _populate(self, store):
        exp_id = self.make_experiment(store)
        runs = {}
        for i, (model, loss, team) in enumerate(
            [("rf", 0.5, "core"), ("lr", 0.3, "core"), ("rf", 0.9, "edge"), ("nn", None, None)]
        ):
            run = self.make_run(store, exp_id, run_name=f"run-{i}", start_time=1000 + i)
            run_id = run.info.run_id
            metrics = [Metric("loss", loss, 1, 0)] if loss is not None else []
            tags = [RunTag("team", team)] if team else []
            store.log_batch(run_id, metrics, [Param("model", model)], tags)
            runs[f"run-{i}"] = run_id
        store.update_run_info(runs["run-1"], RunStatus.FINISHED, 5000, None)
        return exp_id, runs

    def _names(self, store, found):
        return [r.info.run_name for r in found]

    def test_search_runs_default_order(self, store):
        exp_id, _ = self._populate(store)
        found = store.search_runs([exp_id])
        assert self._names(store, found) == ["run-3", "run-2", "run-1", "run-0"]
        assert found.token is None
        run = found[-1]
        assert run.data.params == {"model": "rf"}
        assert run.data.metrics == {"loss": 0.5}
        assert run.data.tags["team"] == "core"

    def test_search_runs_ties_break_by_run_id(self, store):
        exp_id = self.make_experiment(store)
        ids = [self.make_run(store, exp_id, start_time=42).info.run_id for _ in range(4)]
        found = store.search_runs([exp_id])
        assert [r.info.run_id for r in found] == sorted(ids)

    @pytest.mark.parametrize(
        "filter_string, expected",
        [
            ("metrics.loss < 0.6", {"run-0", "run-1"}),
            ("metrics.loss >= 0.5", {"run-0", "run-2"}),
            ("metrics.loss = 0.3", {"run-1"}),
            ("metrics.loss != 0.3", {"run-0", "run-2"}),
            ("params.model = 'rf'", {"run-0", "run-2"}),
            ("params.model != 'rf'", {"run-1", "run-3"}),
            ("params.model LIKE 'r%'", {"run-0", "run-2"}),
            ("params.model ILIKE 'R%'", {"run-0", "run-2"}),
            ("params.model LIKE 'R%'", set()),
            ("tags.team = 'core'", {"run-0", "run-1"}),
            ("tags.team IS NULL", {"run-3"}),
            ("tags.team IS NOT NULL", {"run-0", "run-1", "run-2"}),
            ("params.model = 'rf' and metrics.loss > 0.6", {"run-2"}),
            ("attributes.status = 'FINISHED'", {"run-1"}),
            ("status != 'FINISHED'", {"run-0", "run-2", "run-3"}),
            ("attributes.run_name = 'run-2'", {"run-2"}),
            ("`Run Name` LIKE 'run-%'", {"run-0", "run-1", "run-2", "run-3"}),
            ("attributes.start_time >= 1002", {"run-2", "run-3"}),
            ("attributes.end_time > 0", {"run-1"}),
            ("attributes.user_id = 'alice'", {"run-0", "run-1", "run-2", "run-3"}),
            ("", {"run-0", "run-1", "run-2", "run-3"}),
        ],
    )
    def test_search_runs_filters(self, store, filter_string, expected):
        exp_id, _ = self._populate(store)
        assert set(self._names(store, store.search_runs([exp_id], filter_string))) == expected

    def test_search_runs_by_run_id(self, store):
        exp_id, runs = self._populate(store)
        found = store.search_runs(
            [exp_id], f"attributes.run_id IN ('{runs['run-0']}', '{runs['run-3']}')"
        )
        assert set(self._names(store, found)) == {"run-0", "run-3"}
        found = store.search_runs([exp_id], f"attributes.run_id = '{runs['run-1']}'")
        assert self._names(store, found) == ["run-1"]

    def test_search_runs_order_by(self, store):
        exp_id, _ = self._populate(store)
        found = store.search_runs([exp_id], order_by=["metrics.loss ASC"])
        assert self._names(store, found) == ["run-1", "run-0", "run-2", "run-3"]
        found = store.search_runs([exp_id], order_by=["metrics.loss DESC"])
        assert self._names(store, found) == ["run-2", "run-0", "run-1", "run-3"]
        found = store.search_runs([exp_id], order_by=["params.model", "start_time DESC"])
        assert self._names(store, found) == ["run-1", "run-3", "run-2", "run-0"]
        found = store.search_runs([exp_id], order_by=["attributes.start_time ASC"])
        assert self._names(store, found) == ["run-0", "run-1", "run-2", "run-3"]
        found = store.search_runs([exp_id], order_by=["tags.team DESC"])
        assert self._names(store, found)[-1] == "run-3"

    def test_search_runs_order_by_duration(self, store):
        """Skiff's own order_by key: end_time - start_time; runs without an end last."""
        exp_id = self.make_experiment(store)
        for name, start, end in [("long", 1000, 9000), ("open", 1500, None),
                                 ("short", 2000, 2500), ("mid", 3000, 6000)]:
            run_id = self.make_run(store, exp_id, run_name=name, start_time=start).info.run_id
            if end is not None:
                store.update_run_info(run_id, RunStatus.FINISHED, end, None)
        found = store.search_runs([exp_id], order_by=["attributes.duration ASC"])
        assert self._names(store, found) == ["short", "mid", "long", "open"]
        found = store.search_runs([exp_id], order_by=["duration DESC"])
        assert self._names(store, found) == ["long", "mid", "short", "open"]
        page = store.search_runs([exp_id], order_by=["duration DESC"], max_results=2)
        rest = store.search_runs([exp_id], order_by=["duration DESC"], max_results=2,
                                 page_token=page.token)
        assert self._names(store, page) + self._names(store, rest) == [
            "long", "mid", "short", "open"]

    def test_search_runs_paging(self, store):
        exp_id = self.make_experiment(store)
        ids = [
            self.make_run(store, exp_id, start_time=1000 + i, run_name=f"p{i}").info.run_id
            for i in range(7)
        ]
        seen, token, pages = [], None, 0
        while True:
            page = store.search_runs([exp_id], max_results=3, page_token=token)
            pages += 1
            assert len(page) <= 3
            seen.extend(r.info.run_id for r in page)
            token = page.token
            if not token:
                break
        assert seen == list(reversed(ids))
        assert pages == 3
        exact = store.search_runs([exp_id], max_results=7)
        assert len(exact) == 7 and exact.token is None
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.search_runs([exp_id], max_results=50001)
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.search_runs([exp_id], page_token="%%%garbage")

    def test_search_runs_with_keys(self, store):
        exp_id, runs = self._populate(store)
        store.log_batch(runs["run-0"], [Metric("acc", 0.7, 1, 0)], [Param("depth", "3")],
                        [RunTag("note", "x")])
        wanted = {"metrics": ["loss"], "params": [], "tags": ["team"]}
        full = store.search_runs([exp_id], "params.model = 'rf'", max_results=1)
        some = store.search_runs_with_keys([exp_id], wanted, "params.model = 'rf'",
                                           max_results=1)
        assert [r.info.run_id for r in some] == [r.info.run_id for r in full]
        assert some.token == full.token
        # at least the wanted keys, with their values (a store may return more)
        assert some[0].data.metrics["loss"] == 0.9 and some[0].data.tags["team"] == "edge"
        rest = store.search_runs_with_keys([exp_id], wanted, "params.model = 'rf'",
                                           max_results=1, page_token=some.token)
        assert [r.info.run_id for r in rest] == [runs["run-0"]] and rest.token is None
        run = rest[0]
        assert run.data.metrics["loss"] == 0.5 and run.data.tags["team"] == "core"
        assert set(run.data.metrics) <= {"loss", "acc"}
        # a kind left out of data_keys comes whole
        whole = store.search_runs_with_keys([exp_id], {"metrics": []}, "params.model = 'rf'",
                                            page_token=some.token)
        assert whole[0].data.params == {"model": "rf", "depth": "3"}

    def test_search_runs_as_dicts(self, store):
        """The JSON form a server answers with is exactly ``Run.to_dict()`` of each run."""
        exp_id, runs = self._populate(store)
        store.log_batch(runs["run-1"], [Metric("odd", float("nan"), 2, 1),
                                        Metric("big", float("inf"), 3, 2)], [], [])
        store.update_run_info(runs["run-2"], RunStatus.to_string(RunStatus.FINISHED), 5000,
                              "renamed")
        store.log_inputs(runs["run-0"], [self._dataset_input()])
        store.delete_run(runs["run-3"])
        for args in [dict(), dict(filter_string="params.model = 'rf'"),
                     dict(order_by=["metrics.loss DESC"], run_view_type=ViewType.ALL),
                     dict(max_results=2)]:
            page = store.search_runs([exp_id], **args)
            dicts = store.search_runs_as_dicts([exp_id], **args)
            assert dicts == [run.to_dict() for run in page]
            assert dicts.token == page.token
        assert list(store.search_runs_as_dicts([])) == []

    def test_search_runs_several_experiments(self, store):
        exp_a, exp_b, exp_c = (self.make_experiment(store) for _ in range(3))
        a = self.make_run(store, exp_a).info.run_id
        b = self.make_run(store, exp_b).info.run_id
        self.make_run(store, exp_c)
        found = {r.info.run_id for r in store.search_runs([exp_a, exp_b])}
        assert found == {a, b}
        assert list(store.search_runs([])) == []

    @pytest.mark.parametrize("bad", [
        "metrics.loss = 'text'", "params.model = 'a' OR params.model = 'b'",
        "nonsense", "params.model <> 'x' extra",
    ])
    def test_search_runs_bad_filter(self, store, bad):
        exp_id = self.make_experiment(store)
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.search_runs([exp_id], bad)

    def test_search_runs_nan_metric_never_matches(self, store):
        exp_id = self.make_experiment(store)
        run_id = self.make_run(store, exp_id).info.run_id
        store.log_metric(run_id, Metric("m", float("nan"), 1, 0))
        assert list(store.search_runs([exp_id], "metrics.m > 0")) == []
        assert list(store.search_runs([exp_id], "metrics.m < 0")) == []

    # -- inputs -------------------------------------------------------------------------
    def _dataset_input(self, name="train", digest="abc123", context="training"):
        dataset = Dataset(name, digest, "local", '{"uri": "/data/x.csv"}',
                          schema='{"mlflow_colspec": []}', profile='{"num_rows": 3}')
        return DatasetInput(dataset, [InputTag("mlflow.data.context", context)])

    def test_log_inputs(self, store):
        exp_id = self.make_experiment(store)
        run_id = self.make_run(store, exp_id).info.run_id
        store.log_inputs(run_id, [self._dataset_input()])
        store.log_inputs(run_id, [self._dataset_input()])  # same again: deduplicated
        store.log_inputs(run_id, [self._dataset_input("eval", "def456", "eval")])
        inputs = store.get_run(run_id).inputs.dataset_inputs
        got = sorted((d.dataset.name, d.dataset.digest, d.tags[0].value) for d in inputs)
        assert got == [("eval", "def456", "eval"), ("train", "abc123", "training")]
        train = next(d for d in inputs if d.dataset.name == "train")
        assert train.dataset.source_type == "local"
        assert train.dataset.source == '{"uri": "/data/x.csv"}'
        assert train.dataset.schema == '{"mlflow_colspec": []}'
        assert train.dataset.profile == '{"num_rows": 3}'
        other = self.make_run(store, exp_id).info.run_id
        store.log_inputs(other, [self._dataset_input()])
        assert len(store.get_run(other).inputs.dataset_inputs) == 1
        found = store.search_runs([exp_id], "datasets.name = 'eval'")
        assert [r.info.run_id for r in found] == [run_id]
        found = store.search_runs([exp_id], "datasets.context = 'training'")
        assert {r.info.run_id for r in found} == {run_id, other}
        assert store.search_runs([exp_id], "datasets.digest = 'abc123'")[0].inputs.dataset_inputs

    def test_log_inputs_validation(self, store):
        run_id = self.make_run(store).info.run_id
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_inputs(run_id, [self._dataset_input(digest="x" * 37)])
        store.log_inputs(run_id, [])
        store.log_inputs(run_id, None)
        assert store.get_run(run_id).inputs.dataset_inputs == []

    # -- garbage collection -----------------------------------------------------------------
    def test_deleted_runs_for_gc(self, store):
        exp_id = self.make_experiment(store)
        doomed = self.make_run(store, exp_id).info.run_id
        kept = self.make_run(store, exp_id).info.run_id
        store.log_batch(doomed, [Metric("m", 1.0, 1, 0)], [Param("p", "v")], [RunTag("t", "v")])
        assert store._get_deleted_runs() == []
        store.delete_run(doomed)
        assert store._get_deleted_runs() == [doomed]
        assert store._get_deleted_runs(older_than=3_600_000) == []
        store._hard_delete_run(doomed)
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.get_run(doomed)
        assert store._get_deleted_runs() == []
        assert [r.info.run_id for r in store.search_runs([exp_id], run_view_type=ViewType.ALL)] \
            == [kept]

    def test_hard_delete_experiment(self, store):
        exp_id = self.make_experiment(store, "purged")
        run_id = self.make_run(store, exp_id).info.run_id
        store.log_metric(run_id, Metric("m", 1.0, 1, 0))
        kept = self.make_experiment(store)
        store.delete_experiment(exp_id)
        store._hard_delete_experiment(exp_id)
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.get_experiment(exp_id)
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.get_run(run_id)
        assert store.get_experiment_by_name("purged") is None
        assert run_id not in store._get_deleted_runs()
        store.create_experiment("purged")  # the name is free again
        assert store.get_experiment(kept).lifecycle_stage == LifecycleStage.ACTIVE

    # -- logged models (MLflow 3.x) ---------------------------------------------------------
    def _needs_logged_models(self):
        if not self.supports_logged_models:
            pytest.skip("store declares no logged-model support")

    def test_logged_model_lifecycle(self, store):
        self._needs_logged_models()
        from skiff.entities import LoggedModelStatus

        exp_id = self.make_experiment(store)
        run_id = self.make_run(store, exp_id).info.run_id
        model = store.create_logged_model(
            exp_id, name="clf", source_run_id=run_id, tags=[RunTag("k", "v")],
            params=[Param("alpha", "0.5")], model_type="sklearn",
        )
        assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
        assert model.status == "LOGGED_MODEL_PENDING"
        assert model.name == "clf" and model.experiment_id == exp_id
        assert model.source_run_id == run_id and model.model_type == "sklearn"
        exp = store.get_experiment(exp_id)
        assert model.artifact_location == (
            f"{exp.artifact_location}/models/{model.model_id}/artifacts"
        )
        assert model.tags == {"k": "v"} and model.params == {"alpha": "0.5"}
        ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
        assert ready.status == "LOGGED_MODEL_READY"
        store.set_logged_model_tags(model.model_id, [RunTag("k", "w"), RunTag("x", "y")])
        store.delete_logged_model_tag(model.model_id, "x")
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.delete_logged_model_tag(model.model_id, "x")
        store.log_logged_model_params(model.model_id, [Param("beta", "1")])
        got = store.get_logged_model(model.model_id)
        assert got.status == "LOGGED_MODEL_READY"
        assert got.tags == {"k": "w"}
        assert got.params == {"alpha": "0.5", "beta": "1"}
        store.log_batch(run_id, [Metric("acc", 0.9, 1, 0, model_id=model.model_id)], [], [])
        got = store.get_logged_model(model.model_id)
        assert [(m.key, m.value, m.run_id) for m in got.metrics] == [("acc", 0.9, run_id)]
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.get_logged_model("m-" + "0" * 32)
        store.delete_logged_model(model.model_id)
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.get_logged_model(model.model_id)

    def test_logged_model_generated_name(self, store):
        self._needs_logged_models()
        exp_id = self.make_experiment(store)
        model = store.create_logged_model(exp_id)
        assert model.name

    def test_search_logged_models(self, store):
        self._needs_logged_models()
        exp_id = self.make_experiment(store)
        other = self.make_experiment(store)
        ids = []
        for i in range(5):
            ids.append(store.create_logged_model(exp_id, name=f"m{i}").model_id)
            time.sleep(0.002)
        store.create_logged_model(other, name="elsewhere")
        seen, token = [], None
        while True:
            page = store.search_logged_models([exp_id], max_results=2, page_token=token)
            seen.extend(m.model_id for m in page)
            token = page.token
            if not token:
                break
        assert sorted(seen) == sorted(ids) and len(seen) == 5
        # newest first by default
        assert seen[0] == ids[-1]

    def test_run_outputs_and_model_inputs(self, store):
        self._needs_logged_models()
        from skiff.entities import ModelInput, ModelOutput

        exp_id = self.make_experiment(store)
        run_id = self.make_run(store, exp_id).info.run_id
        model = store.create_logged_model(exp_id, name="clf", source_run_id=run_id)
        store.log_outputs(run_id, [ModelOutput(model.model_id, 0)])
        run = store.get_run(run_id)
        assert [(o.model_id, o.step) for o in run.outputs.model_outputs] == [(model.model_id, 0)]
        consumer = self.make_run(store, exp_id).info.run_id
        store.log_inputs(consumer, models=[ModelInput(model.model_id)])
        assert [m.model_id for m in store.get_run(consumer).inputs.model_inputs] == [
            model.model_id
        ]
