"""Scoring a DataFrame as a plain matrix when that cannot change the answer.

For each call with a DataFrame, scikit-learn inspects it (feature names through narwhals,
every column's dtype) before converting it to an array; for the small batches of online
scoring that costs about three quarters of ``predict``. When the frame's columns are exactly
the ones the estimator was fitted on, in order, and all plain numeric numpy dtypes, the
result on ``frame.to_numpy()`` is the same. A shallow copy of the estimator without
``feature_names_in_`` (sharing every fitted array) takes that matrix without the "X does
not have valid feature names" warning, and without touching the global warning filters,
which threaded servers share.

Only scikit-learn's own estimators with no fitted sub-estimators qualify: pipelines,
column transformers and custom estimators may look columns up by name.
"""

from __future__ import annotations

import copy
import sys


def _holds_fitted_estimators(model) -> bool:
    def fitted(value, depth=0):
        if hasattr(value, "feature_names_in_") or hasattr(value, "get_params"):
            return True
        if depth < 2 and isinstance(value, (list, tuple)):
            return any(fitted(v, depth + 1) for v in value)
        if depth < 2 and isinstance(value, dict):
            return any(fitted(v, depth + 1) for v in value.values())
        return False

    return any(fitted(v) for v in vars(model).values())


def matrix_twin(model):
    """The estimator without its feature names, or None when the shortcut does not apply."""
    state = getattr(model, "__dict__", None)
    if not state or "feature_names_in_" not in state:
        return None
    if not type(model).__module__.startswith("sklearn.") or _holds_fitted_estimators(model):
        return None
    twin = copy.copy(model)
    del twin.__dict__["feature_names_in_"]
    return twin


def as_matrix(data, feature_names):
    """``data.to_numpy()`` when ``data`` is a DataFrame of exactly ``feature_names``, all of
    numpy's int/uint/float dtypes; None otherwise."""
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(data, pd.DataFrame):
        return None
    columns = data.columns
    if len(columns) != len(feature_names) or list(columns) != feature_names:
        return None
    import numpy as np

    for dtype in data.dtypes:
        if not isinstance(dtype, np.dtype) or dtype.kind not in "fiu":
            return None
    return data.to_numpy()
