"""Logged-model search: MLflow's filter keys and order_by objects."""

from skiff.entities import Metric, Param
from skiff_stores_file.store import FileTrackingStore


def test_search_logged_models_filters_and_order(tmp_path):
    store = FileTrackingStore(str(tmp_path))
    exp_id = store.create_experiment("x")
    run_id = store.create_run(exp_id, "u", 1, [], "r").info.run_id
    models = [store.create_logged_model(exp_id, name=f"m{i}", params=[Param("alpha", str(i))],
                                        model_type="sk") for i in range(3)]
    store.log_batch(run_id, [Metric("acc", 0.3 * i, 1, 0, model_id=m.model_id,
                                    dataset_name="ds", dataset_digest="d1")
                             for i, m in enumerate(models)], [], [])

    def names(**kwargs):
        return [m.name for m in store.search_logged_models([exp_id], **kwargs)]

    assert names(filter_string="name = 'm1'") == ["m1"]
    assert names(filter_string="metrics.acc > 0.5") == ["m2"]
    assert names(filter_string="params.alpha != '0' AND model_type = 'sk'",
                 order_by=[{"field_name": "name", "ascending": False}]) == ["m2", "m1"]
    assert names(order_by=["metrics.acc DESC"]) == ["m2", "m1", "m0"]
    assert names(datasets=[{"dataset_name": "other"}]) == []
    assert len(names(datasets=[{"dataset_name": "ds", "dataset_digest": "d1"}])) == 3
    [metric] = store.get_logged_model(models[1].model_id).metrics
    assert (metric.dataset_name, metric.dataset_digest, metric.run_id) == ("ds", "d1", run_id)
    store.delete_logged_model(models[0].model_id)
    assert sorted(names()) == ["m1", "m2"]
