"""skiff.sklearn: save/load in the three formats, pyfunc, MLmodel keys, errors."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin

import skiff
import skiff.pyfunc
from skiff.errors import SkiffException


def test_resolves_through_the_flavor_hook():
    import skiff_flavor_sklearn

    assert skiff.sklearn is skiff_flavor_sklearn
    import skiff.sklearn as imported  # the `import mlflow.sklearn` habit works too

    assert imported is skiff_flavor_sklearn
    assert skiff_flavor_sklearn.__spec__.name == "skiff_flavor_sklearn"
    from skiff.plugins import get_registries

    assert get_registries().flavors.plugin_for("sklearn") == "flavor-sklearn"


@pytest.mark.parametrize("fmt, file_name", [("skops", "model.skops"),
                                            ("cloudpickle", "model.pkl"),
                                            ("pickle", "model.pkl")])
def test_save_and_load_each_format(tmp_path, iris, classifier, fmt, file_name):
    X, _ = iris
    skiff.sklearn.save_model(classifier, tmp_path / "m", serialization_format=fmt,
                             input_example=X.head(3))
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    flavor = mlmodel["flavors"]["sklearn"]
    assert flavor["pickled_model"] == file_name and flavor["serialization_format"] == fmt
    assert set(flavor) == {"pickled_model", "sklearn_version", "serialization_format", "code",
                           "skops_trusted_types"}
    pyf = mlmodel["flavors"]["python_function"]
    assert pyf["loader_module"] == "mlflow.sklearn" and pyf["model_path"] == file_name
    assert pyf["predict_fn"] == "predict"
    # one label per row of a DataFrame input: a column, as MLflow writes it
    assert mlmodel["signature"]["outputs"] == '[{"type": "long", "required": true}]'
    reqs = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert reqs[0].startswith("scikit-learn==")
    assert any(r.startswith("skops==" if fmt == "skops" else "cloudpickle==") for r in reqs) \
        or fmt == "pickle"
    raw = skiff.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(raw.predict(X), classifier.predict(X))
    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(model.predict(X), classifier.predict(X))
    assert model.get_raw_model().__class__ is classifier.__class__


def test_pickle_loading_logs_the_file(tmp_path, classifier, caplog):
    skiff.sklearn.save_model(classifier, tmp_path / "m", serialization_format="pickle")
    with caplog.at_level("WARNING", logger="skiff.sklearn"):
        skiff.sklearn.load_model(str(tmp_path / "m"))
    assert any(str(tmp_path / "m" / "model.pkl") in r.getMessage() for r in caplog.records)


def test_predict_proba_for_pyfunc(tmp_path, iris, classifier):
    X, _ = iris
    skiff.sklearn.save_model(classifier, tmp_path / "m", pyfunc_predict_fn="predict_proba",
                             input_example=X.head(2))
    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(model.predict(X), classifier.predict_proba(X))
    assert model.metadata.signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 3]


def test_schema_enforcement_names_the_column(tmp_path, iris, classifier):
    X, _ = iris
    skiff.sklearn.save_model(classifier, tmp_path / "m", input_example=X.head(2))
    model = skiff.pyfunc.load_model(str(tmp_path / "m"))
    bad = X.head(2).astype({"petal width (cm)": str})
    with pytest.raises(SkiffException, match=r"column petal width \(cm\)"):
        model.predict(bad)


def test_bad_arguments(tmp_path, classifier):
    with pytest.raises(SkiffException, match="supported formats: \\['skops', 'pickle', "
                                             "'cloudpickle'\\]"):
        skiff.sklearn.save_model(classifier, tmp_path / "a", serialization_format="joblib")
    with pytest.raises(SkiffException, match="pyfunc_predict_fn"):
        skiff.sklearn.save_model(classifier, tmp_path / "b", pyfunc_predict_fn="transform")

    from sklearn.linear_model import LinearRegression

    with pytest.raises(SkiffException, match="no 'predict_proba'"):
        skiff.sklearn.save_model(LinearRegression(), tmp_path / "c",
                                 pyfunc_predict_fn="predict_proba")


class Majority(ClassifierMixin, BaseEstimator):
    """A custom estimator: skops does not trust its type."""

    def fit(self, X, y):
        self.value_ = int(np.bincount(np.asarray(y)).argmax())
        return self

    def predict(self, X):
        return np.full(len(X), self.value_)


def test_skops_untrusted_types(tmp_path, iris):
    X, y = iris
    model = Majority().fit(X, y)
    with pytest.raises(SkiffException, match="skops_trusted_types"):
        skiff.sklearn.save_model(model, tmp_path / "a")
    assert not (tmp_path / "a").exists()
    trusted = [f"{Majority.__module__}.Majority"]
    skiff.sklearn.save_model(model, tmp_path / "b", skops_trusted_types=trusted)
    loaded = skiff.pyfunc.load_model(str(tmp_path / "b"))
    assert loaded.predict(X.head(2)).tolist() == [0, 0]
    flavor = yaml.safe_load((tmp_path / "b" / "MLmodel").read_text())["flavors"]["sklearn"]
    assert flavor["skops_trusted_types"] == trusted
