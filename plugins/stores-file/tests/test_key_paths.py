"""Keys are files in this store ('a/b' is the file b in the folder a): keys the file system
cannot name, and keys that would need a file and a folder at one place, are
INVALID_PARAMETER_VALUE before anything is written, never a 500 or half a batch."""

from __future__ import annotations

import pytest

from skiff.entities import Metric, Param, RunTag
from skiff.errors import SkiffException
from skiff_stores_file._registry import FileRegistryStore
from skiff_stores_file.store import FileTrackingStore

LONG = "é" * 200  # 200 characters (MLflow allows 250), 400 bytes: past a name's 255


def _invalid(call) -> str:
    with pytest.raises(SkiffException) as err:
        call()
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "/tmp" not in err.value.message  # no server paths in the answer
    return err.value.message


@pytest.fixture
def store_and_run(tmp_path):
    store = FileTrackingStore(str(tmp_path))
    exp = store.create_experiment("e")
    return store, exp, store.create_run(exp, "u", 1, [], "r").info.run_id


def test_keys_too_long_for_a_file_name(store_and_run):
    store, exp, run_id = store_and_run
    assert "255" in _invalid(lambda: store.log_metric(run_id, Metric(LONG, 1.0, 1, 0)))
    _invalid(lambda: store.log_batch(run_id, [Metric("ok", 1.0, 1, 0)], [Param("p", "v")],
                                     [RunTag(f"x/{LONG}", "v")]))
    _invalid(lambda: store.set_experiment_tag(exp, RunTag(LONG, "v")))
    _invalid(lambda: store.create_run(exp, "u", 1, [RunTag(LONG, "v")], "r2"))
    _invalid(lambda: store.get_metric_history(run_id, LONG))
    _invalid(lambda: store.log_batch(run_id, [Metric("ok", 1.0, 1, 0),
                                              Metric("ok", 2.0, 2, 1, model_id=LONG)], [], []))
    data = store.get_run(run_id).data
    assert data.metrics == {} and data.params == {}  # the batch: all or nothing
    assert "ok" not in store.get_experiment(exp).tags
    assert len(store.search_runs([exp])) == 1
    store.log_metric(run_id, Metric("é" * 120, 1.0, 1, 0))  # 240 bytes: fits
    assert store.get_run(run_id).data.metrics == {"é" * 120: 1.0}


def test_a_key_cannot_also_be_a_folder_of_keys(store_and_run):
    store, exp, run_id = store_and_run
    store.log_param(run_id, Param("a", "1"))
    store.set_tag(run_id, RunTag("t/u", "1"))
    assert "'a'" in _invalid(lambda: store.log_param(run_id, Param("a/b", "2")))
    _invalid(lambda: store.set_tag(run_id, RunTag("t", "2")))
    _invalid(lambda: store.log_batch(run_id, [Metric("m", 1.0, 1, 0), Metric("m/n", 1.0, 1, 0)],
                                     [], []))
    _invalid(lambda: store.log_batch(run_id, [Metric("fine", 1.0, 1, 0)], [Param("c", "v")],
                                     [RunTag("t", "v")]))
    data = store.get_run(run_id).data
    assert data.params == {"a": "1"} and data.metrics == {}
    assert data.tags["t/u"] == "1" and "t" not in data.tags
    assert store.get_metric_history(run_id, "a/b/c") == []
    with pytest.raises(SkiffException) as err:
        store.delete_tag(run_id, "t")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_registry_tags_and_names(tmp_path):
    registry = FileRegistryStore(str(tmp_path))
    registry.create_registered_model("m", [RunTag("k/v", "1")])
    _invalid(lambda: registry.set_registered_model_tag("m", RunTag("k", "2")))
    _invalid(lambda: registry.set_registered_model_tag("m", RunTag(LONG, "2")))
    _invalid(lambda: registry.create_registered_model("m2", [RunTag("x", "1"), RunTag("x/y", "2")]))
    assert registry.get_registered_model("m").tags == {"k/v": "1"}
    with pytest.raises(SkiffException):
        registry.get_registered_model("m2")
