"""Contract tests: runs, params, metrics, tags and log_batch."""

from __future__ import annotations

import math
import re
import uuid

import pytest

from skiff.entities import (
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from skiff.testing.contracts._tracking_base import (
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    ContractBase,
    now_ms,
    raises_code,
)


class RunContract(ContractBase):
    # -- runs -------------------------------------------------------------------------
    def test_create_and_get_run(self, store):
        exp_id = self.make_experiment(store)
        start = now_ms()
        run = store.create_run(exp_id, "alice", start, [RunTag("t", "v")], "named")
        info = run.info
        assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
        assert info.run_uuid == info.run_id
        assert info.experiment_id == exp_id
        assert info.user_id == "alice"
        assert info.status == "RUNNING"
        assert info.start_time == start
        assert info.end_time is None
        assert info.lifecycle_stage == LifecycleStage.ACTIVE
        assert info.run_name == "named"
        exp = store.get_experiment(exp_id)
        assert info.artifact_uri == f"{exp.artifact_location}/{info.run_id}/artifacts"
        assert run.data.tags == {"t": "v", RUN_NAME_TAG: "named"}
        fetched = store.get_run(info.run_id)
        assert fetched.info == info
        assert fetched.data.tags == {"t": "v", RUN_NAME_TAG: "named"}
        assert fetched.data.metrics == {} and fetched.data.params == {}
        assert fetched.inputs.dataset_inputs == []

    def test_run_in_default_experiment(self, store):
        run = self.make_run(store, "0")
        assert store.get_run(run.info.run_id).info.experiment_id == "0"

    def test_generated_run_name(self, store):
        run = self.make_run(store, run_name=None)
        assert run.info.run_name
        assert len(run.info.run_name) <= 40
        assert run.data.tags[RUN_NAME_TAG] == run.info.run_name
        assert store.get_run(run.info.run_id).info.run_name == run.info.run_name

    def test_run_name_from_tag(self, store):
        run = self.make_run(store, run_name=None, tags=[RunTag(RUN_NAME_TAG, "from-tag")])
        assert run.info.run_name == "from-tag"
        assert store.get_run(run.info.run_id).data.tags[RUN_NAME_TAG] == "from-tag"

    def test_conflicting_run_name_and_tag(self, store):
        with raises_code("INVALID_PARAMETER_VALUE"):
            self.make_run(store, run_name="a", tags=[RunTag(RUN_NAME_TAG, "b")])

    def test_create_run_in_missing_or_deleted_experiment(self, store):
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.create_run("99999", "u", now_ms(), [], "r")
        exp_id = self.make_experiment(store)
        store.delete_experiment(exp_id)
        with raises_code("INVALID_PARAMETER_VALUE", "INVALID_STATE"):
            store.create_run(exp_id, "u", now_ms(), [], "r")

    def test_unknown_run(self, store):
        missing = uuid.uuid4().hex
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.get_run(missing)
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.log_batch(missing, [Metric("m", 1.0, 1, 0)], [], [])
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.delete_run(missing)
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.update_run_info(missing, RunStatus.FINISHED, 1, None)

    def test_update_run_info(self, store):
        run = self.make_run(store, run_name="before")
        run_id = run.info.run_id
        end = now_ms()
        info = store.update_run_info(run_id, RunStatus.FINISHED, end, None)
        assert info.status == "FINISHED"
        assert info.end_time == end
        assert info.run_name == "before"
        info = store.update_run_info(run_id, RunStatus.FAILED, end + 1, "after")
        assert info.run_name == "after"
        fetched = store.get_run(run_id)
        assert fetched.info.status == "FAILED"
        assert fetched.info.end_time == end + 1
        assert fetched.info.run_name == "after"
        assert fetched.data.tags[RUN_NAME_TAG] == "after"

    def test_set_run_name_tag_renames_run(self, store):
        run = self.make_run(store, run_name="one")
        store.set_tag(run.info.run_id, RunTag(RUN_NAME_TAG, "two"))
        assert store.get_run(run.info.run_id).info.run_name == "two"

    def test_delete_and_restore_run(self, store):
        exp_id = self.make_experiment(store)
        run_id = self.make_run(store, exp_id).info.run_id
        keep_id = self.make_run(store, exp_id).info.run_id
        store.delete_run(run_id)
        assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED

        def ids(view):
            return {r.info.run_id for r in store.search_runs([exp_id], run_view_type=view)}

        assert ids(ViewType.ACTIVE_ONLY) == {keep_id}
        assert ids(ViewType.DELETED_ONLY) == {run_id}
        assert ids(ViewType.ALL) == {run_id, keep_id}
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_metric(run_id, Metric("m", 1.0, now_ms(), 0))
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.set_tag(run_id, RunTag("k", "v"))
        store.restore_run(run_id)
        assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
        assert ids(ViewType.ACTIVE_ONLY) == {run_id, keep_id}
        store.log_metric(run_id, Metric("m", 1.0, now_ms(), 0))

    def test_nested_runs(self, store):
        exp_id = self.make_experiment(store)
        parent = self.make_run(store, exp_id, run_name="parent")
        child = self.make_run(
            store, exp_id, run_name="child",
            tags=[RunTag(PARENT_RUN_TAG, parent.info.run_id)],
        )
        assert store.get_run(child.info.run_id).data.tags[PARENT_RUN_TAG] == parent.info.run_id
        found = store.search_runs(
            [exp_id], f"tags.`{PARENT_RUN_TAG}` = '{parent.info.run_id}'"
        )
        assert [r.info.run_id for r in found] == [child.info.run_id]

    # -- params -----------------------------------------------------------------------
    def test_params_are_immutable(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_param(run_id, Param("lr", "0.1"))
        store.log_param(run_id, Param("lr", "0.1"))  # same value: fine
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_param(run_id, Param("lr", "0.2"))
        assert store.get_run(run_id).data.params == {"lr": "0.1"}

    def test_failing_batch_writes_nothing(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_param(run_id, Param("fixed", "a"))
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_batch(
                run_id,
                [Metric("m", 1.0, now_ms(), 0)],
                [Param("fresh", "x"), Param("fixed", "b")],
                [RunTag("t", "v")],
            )
        data = store.get_run(run_id).data
        assert data.params == {"fixed": "a"}
        assert data.metrics == {}
        assert "t" not in data.tags
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_batch(run_id, [Metric("ok", 1.0, 1, 0), Metric("../bad", 1.0, 1, 0)],
                            [], [])
        assert store.get_metric_history(run_id, "ok") == []

    def test_param_values(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_batch(run_id, [], [
            Param("empty", ""), Param("nested/dir/key", "deep"), Param("spaces ok", "v v"),
            Param("unicode", "héllo ✓"), Param("multi", "line1\nline2"),
        ], [])
        assert store.get_run(run_id).data.params == {
            "empty": "", "nested/dir/key": "deep", "spaces ok": "v v",
            "unicode": "héllo ✓", "multi": "line1\nline2",
        }

    def test_long_values_truncated_by_default(self, store, monkeypatch):
        monkeypatch.delenv("SKIFF_TRUNCATE_LONG_VALUES", raising=False)
        monkeypatch.delenv("MLFLOW_TRUNCATE_LONG_VALUES", raising=False)
        run_id = self.make_run(store).info.run_id
        with pytest.warns(UserWarning):
            store.log_batch(run_id, [], [Param("p", "x" * 7000)], [RunTag("t", "y" * 9000)])
        data = store.get_run(run_id).data
        assert data.params["p"] == "x" * 6000
        assert data.tags["t"] == "y" * 8000

    def test_long_values_refused_when_truncation_off(self, store, monkeypatch):
        monkeypatch.setenv("SKIFF_TRUNCATE_LONG_VALUES", "false")
        run_id = self.make_run(store).info.run_id
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_param(run_id, Param("p", "x" * 6001))
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.set_tag(run_id, RunTag("t", "x" * 8001))
        assert store.get_run(run_id).data.params == {}

    @pytest.mark.parametrize("key", ["..", "../x", "/abs", "a//b", "a/", "./a", "a/../b", "",
                                     "bad\\slash", "k" * 251, "semi;colon"])
    def test_bad_keys(self, store, key):
        run_id = self.make_run(store).info.run_id
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_metric(run_id, Metric(key, 1.0, now_ms(), 0))
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_param(run_id, Param(key, "v"))
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.set_tag(run_id, RunTag(key, "v"))
        data = store.get_run(run_id).data
        assert data.metrics == {} and data.params == {}

    # -- metrics ----------------------------------------------------------------------
    def test_metric_history_with_steps(self, store):
        run_id = self.make_run(store).info.run_id
        points = [Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(5)]
        for m in reversed(points):
            store.log_metric(run_id, m)
        history = store.get_metric_history(run_id, "loss")
        assert [(m.key, m.value, m.timestamp, m.step) for m in history] == [
            (m.key, m.value, m.timestamp, m.step) for m in points
        ]
        assert store.get_run(run_id).data.metrics == {"loss": 0.2}  # highest step wins
        assert store.get_metric_history(run_id, "missing") == []

    def test_metric_history_keeps_duplicates(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_batch(run_id, [Metric("m", 1.0, 5, 0), Metric("m", 1.0, 5, 0)], [], [])
        store.log_metric(run_id, Metric("m", 1.0, 5, 0))
        assert len(store.get_metric_history(run_id, "m")) == 3

    def test_full_batch_of_points_is_stored_whole(self, store):
        # 1000 points: stores may split a batch into several statements internally
        run_id = self.make_run(store).info.run_id
        points = [Metric(f"k{i % 3}", i * 0.5, 1000 + i, i) for i in range(1000)]
        store.log_batch(run_id, points, [], [])
        for key in ("k0", "k1", "k2"):
            history = store.get_metric_history(run_id, key)
            assert [m.step for m in history] == [i for i in range(1000) if f"k{i % 3}" == key]
        assert store.get_run(run_id).data.metrics == {"k0": 499.5, "k1": 498.5, "k2": 499.0}

    def test_latest_metric_is_max_by_step_timestamp_value(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_batch(run_id, [
            Metric("a", 10.0, 100, 2), Metric("a", 20.0, 500, 1),       # higher step wins
            Metric("b", 1.0, 100, 3), Metric("b", 2.0, 200, 3),         # then later timestamp
            Metric("c", 5.0, 100, 0), Metric("c", 7.0, 100, 0), Metric("c", 6.0, 100, 0),
            Metric("d", 3.0, 100, -1), Metric("d", 4.0, 50, -5),        # negative steps
        ], [], [])
        metrics = store.get_run(run_id).data.metrics
        assert metrics == {"a": 10.0, "b": 2.0, "c": 7.0, "d": 3.0}
        latest = {m.key: m for m in store.get_run(run_id).data.metric_objs}
        assert (latest["a"].timestamp, latest["a"].step) == (100, 2)

    def test_nan_and_infinite_values(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_metric(run_id, Metric("nan", float("nan"), 1, 0))
        store.log_metric(run_id, Metric("inf", float("inf"), 1, 0))
        store.log_metric(run_id, Metric("ninf", float("-inf"), 1, 0))
        store.log_metric(run_id, Metric("big", 1.7976931348623157e308, 1, 0))
        store.log_metric(run_id, Metric("int", 3, 1, 0))
        metrics = store.get_run(run_id).data.metrics
        assert math.isnan(metrics["nan"])
        assert metrics["inf"] == math.inf
        assert metrics["ninf"] == -math.inf
        assert metrics["big"] == 1.7976931348623157e308
        assert metrics["int"] == 3.0
        assert math.isnan(store.get_metric_history(run_id, "nan")[0].value)
        assert store.get_metric_history(run_id, "ninf")[0].value == -math.inf

    def test_metric_values_round_trip_exactly(self, store):
        run_id = self.make_run(store).info.run_id
        values = [0.1, 1 / 3, -2.5e-300, 123456789.123456789, 0.0, -0.0]
        store.log_batch(run_id, [Metric("v", v, i, i) for i, v in enumerate(values)], [], [])
        assert [m.value for m in store.get_metric_history(run_id, "v")] == values

    @pytest.mark.parametrize("value", ["abc", None, True])
    def test_invalid_metric_value(self, store, value):
        run_id = self.make_run(store).info.run_id
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_metric(run_id, Metric("m", value, 1, 0))

    def test_invalid_metric_timestamp_and_step(self, store):
        run_id = self.make_run(store).info.run_id
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_metric(run_id, Metric("m", 1.0, -1, 0))
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.log_metric(run_id, Metric("m", 1.0, 1, 1.5))

    def test_metric_history_points_match_history(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_batch(run_id, [Metric("p", float(s), 10 * s, s) for s in (3, 1, 2)], [], [])
        store.log_metric(run_id, Metric("p", float("nan"), 5, 4))
        store.log_metric(run_id, Metric("p", float("-inf"), 6, 5))
        store.log_metric(run_id, Metric("p", 2.5, 7, 6, dataset_name="d", dataset_digest="x"))
        points = [tuple(p[:7]) for p in store.get_metric_history_points(run_id, "p")]
        expected = [(m.key, m.value, m.timestamp, m.step, m.dataset_name, m.dataset_digest,
                     m.model_id) for m in store.get_metric_history(run_id, "p")]
        assert len(points) == len(expected) == 6
        assert repr(points) == repr(expected)  # repr: NaN == NaN
        assert [p[3] for p in points] == [1, 2, 3, 4, 5, 6]
        assert store.get_metric_history_points(run_id, "missing") == []

    def test_metric_history_paging(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_batch(run_id, [Metric("m", float(s), 10 * s, s) for s in range(10)], [], [])
        steps, token, pages = [], None, 0
        while True:
            page = store.get_metric_history(run_id, "m", max_results=4, page_token=token)
            pages += 1
            steps.extend(m.step for m in page)
            token = page.token
            if not token:
                break
        assert steps == list(range(10))
        assert pages == 3
        assert len(store.get_metric_history(run_id, "m")) == 10

    def test_metric_history_bulk_interval(self, store):
        exp_id = self.make_experiment(store)
        run_a = self.make_run(store, exp_id).info.run_id
        run_b = self.make_run(store, exp_id).info.run_id
        store.log_batch(run_a, [Metric("m", float(s), s, s) for s in range(20)], [], [])
        store.log_batch(run_b, [Metric("m", float(s), s, s) for s in range(0, 40, 2)], [], [])
        points = store.get_metric_history_bulk_interval([run_a, run_b], "m", max_results=5)
        by_run = {}
        for m in points:
            by_run.setdefault(m.run_id, []).append(m.step)
        assert set(by_run) == {run_a, run_b}
        assert len(by_run[run_a]) == 5 and by_run[run_a][0] == 0 and by_run[run_a][-1] == 19
        assert by_run[run_b][0] == 0 and by_run[run_b][-1] == 38 and len(by_run[run_b]) == 5
        assert by_run[run_a] == sorted(by_run[run_a])
        window = store.get_metric_history_bulk_interval(
            [run_a], "m", max_results=100, start_step=5, end_step=9
        )
        assert [m.step for m in window] == [5, 6, 7, 8, 9]

    # -- tags -------------------------------------------------------------------------
    def test_run_tags(self, store):
        run_id = self.make_run(store, run_name="r").info.run_id
        store.set_tag(run_id, RunTag("a", "1"))
        store.set_tag(run_id, RunTag("a", "2"))
        store.set_tag(run_id, RunTag("x/y", "deep"))
        store.set_tag(run_id, RunTag("empty", ""))
        assert store.get_run(run_id).data.tags == {
            "a": "2", "x/y": "deep", "empty": "", RUN_NAME_TAG: "r",
        }
        store.delete_tag(run_id, "a")
        assert "a" not in store.get_run(run_id).data.tags
        with raises_code("RESOURCE_DOES_NOT_EXIST"):
            store.delete_tag(run_id, "a")
        store.delete_run(run_id)
        with raises_code("INVALID_PARAMETER_VALUE"):
            store.delete_tag(run_id, "x/y")

    # -- log_batch ----------------------------------------------------------------------
    def test_log_batch_everything(self, store):
        run_id = self.make_run(store).info.run_id
        store.log_batch(
            run_id,
            [Metric("m1", 1.0, 1, 0), Metric("m1", 2.0, 2, 1), Metric("m2", 3.0, 1, 0)],
            [Param("p1", "a"), Param("p2", "b")],
            [RunTag("t1", "x")],
        )
        data = store.get_run(run_id).data
        assert data.metrics == {"m1": 2.0, "m2": 3.0}
        assert data.params == {"p1": "a", "p2": "b"}
        assert data.tags["t1"] == "x"
        store.log_batch(run_id, [], [], [])

    def test_log_batch_limits(self, store):
        run_id = self.make_run(store).info.run_id
        cases = [
            ([Metric(f"m{i}", 1.0, 1, 0) for i in range(1001)], [], []),
            ([], [Param(f"p{i}", "v") for i in range(101)], []),
            ([], [], [RunTag(f"t{i}", "v") for i in range(101)]),
            ([Metric(f"m{i}", 1.0, 1, 0) for i in range(950)],
             [Param(f"p{i}", "v") for i in range(51)], []),
            ([], [Param("same", "1"), Param("same", "2")], []),
        ]
        for metrics, params, tags in cases:
            with raises_code("INVALID_PARAMETER_VALUE"):
                store.log_batch(run_id, metrics, params, tags)
        data = store.get_run(run_id).data
        assert data.metrics == {} and data.params == {}
        store.log_batch(run_id, [Metric(f"m{i}", 1.0, 1, 0) for i in range(1000)], [], [])
        assert len(store.get_run(run_id).data.metrics) == 1000
