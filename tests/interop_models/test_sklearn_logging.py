"""skiff.sklearn.log_model and autolog() against a real ./mlruns file store: params,
training metrics, the model and an input example."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skiff
import skiff.pyfunc
from skiff.tracking.client import Client

pytest.importorskip("skiff_flavor_sklearn")
pytest.importorskip("skiff_stores_file")


@pytest.fixture(scope="module")
def iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def classifier(iris):
    X, y = iris
    return LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture
def autolog():
    skiff.sklearn.autolog()
    yield
    skiff.sklearn.autolog(disable=True)


def test_fit_outside_a_run_logs_everything(iris, autolog):
    X, y = iris
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    run = skiff.last_active_run()
    run = Client().get_run(run.info.run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    for key in ("training_accuracy_score", "training_f1_score", "training_log_loss",
                "training_roc_auc", "training_score", "training_precision_score",
                "training_recall_score"):
        assert key in metrics
    assert run.data.params["logisticregression__max_iter"] == "300"
    assert run.data.tags["estimator_name"] == "Pipeline"
    [output] = run.outputs.model_outputs
    model = skiff.pyfunc.load_model(f"models:/{output.model_id}")
    np.testing.assert_array_equal(model.predict(X), pipeline.predict(X))
    assert model.metadata.saved_input_example_info["type"] == "dataframe"
    assert len(model.metadata.load_input_example(model._model_path)) == 5
    # one run for the pipeline: the nested fits of its steps log nothing of their own
    assert len(Client().search_runs([run.info.experiment_id])) == 1


def test_fit_inside_a_run_logs_there(iris, autolog):
    X, y = iris
    with skiff.start_run() as active:
        LinearRegression().fit(X, y)
        assert skiff.active_run().info.run_id == active.info.run_id
    run = Client().get_run(active.info.run_id)
    assert {"training_mean_squared_error", "training_root_mean_squared_error",
            "training_mean_absolute_error", "training_r2_score"} <= set(run.data.metrics)


def test_disable_restores_fit(iris, autolog):
    skiff.sklearn.autolog(disable=True)
    assert not getattr(LogisticRegression.fit, "_skiff_autolog", False)
    X, y = iris
    LogisticRegression(max_iter=300).fit(X, y)
    assert skiff.active_run() is None


def test_failed_fit_marks_the_run_failed(iris, autolog):
    X, y = iris
    with pytest.raises(ValueError):
        LogisticRegression().fit(X, y[:10])
    run = Client().get_run(skiff.last_active_run().info.run_id)
    assert run.info.status == "FAILED"


def test_sklearn_log_model(iris, classifier):
    X, _ = iris
    with skiff.start_run() as run:
        info = skiff.sklearn.log_model(classifier, name="iris", input_example=X.head(3))
    assert info.model_uri.startswith("models:/m-") and info.run_id == run.info.run_id
    model = skiff.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(model.predict(X), classifier.predict(X))
    raw = skiff.sklearn.load_model(f"runs:/{run.info.run_id}/iris")
    np.testing.assert_array_equal(raw.predict(X), classifier.predict(X))
