"""The sklearn pyfunc's matrix shortcut (skiff_flavor_sklearn._matrix_predict) answers as
scikit-learn does on the DataFrame, warns nothing, and stays off where names matter."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("sklearn")


def test_same_predictions_and_no_warning(iris):
    from skiff.pyfunc import load_model

    path, X, expected = iris
    model = load_model(path)
    assert model._model_impl._twin is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict(X).tolist() == expected
        # Columns in another order, or ints, still answer correctly (through enforcement
        # or scikit-learn's own path).
        assert model.predict(X[list(reversed(X.columns))]).tolist() == expected
    assert model.predict(X.astype("float32")).tolist() == expected


def test_shortcut_stays_off_for_composite_and_custom_estimators(iris):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skiff_flavor_sklearn._matrix_predict import matrix_twin

    _, X, _ = iris
    y = [0, 1] * (len(X) // 2)
    assert matrix_twin(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)) is None
    columns = ColumnTransformer([("s", StandardScaler(), list(X.columns[:2]))]).fit(X)
    assert matrix_twin(columns) is None

    class Custom(LogisticRegression):
        pass

    assert matrix_twin(Custom().fit(X, y)) is None
    assert matrix_twin(LogisticRegression().fit(X.values, y)) is None  # no names: nothing to do
    twin = matrix_twin(LogisticRegression().fit(X, y))
    assert twin is not None and not hasattr(twin, "feature_names_in_")
