"""Models saved by Skiff load and predict identically in MLflow 3.17.2 (which has no Skiff
installed: the files alone must be enough)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skiff_flavor_sklearn")


def test_mlflow_loads_and_predicts_skiff_models(roundtrip):
    out, expected = roundtrip["skiff_dir"], roundtrip["skiff_expected"]
    logged, got = roundtrip["skiff_logged"], roundtrip["mlflow_got"]
    np.testing.assert_array_equal(got[logged["model_id"]], logged["pred"])
    for name, want in expected.items():
        if isinstance(want[0], str):
            assert got[name] == want, name
        else:
            np.testing.assert_allclose(np.asarray(got[name]), np.asarray(want), err_msg=name)
        if name.startswith("sklearn"):
            raw = name if name.endswith(("numpy", "number_columns")) else "sklearn_skops"
            np.testing.assert_array_equal(got[name + ":raw"], expected[raw])
    # MLflow parses the signatures Skiff wrote into the same JSON.
    from skiff.models import Model

    for name in expected:
        assert got[name + ":signature"] == Model.load(str(out / name)).signature.to_dict(), name


def test_skiff_reads_back_what_it_wrote(roundtrip):
    import skiff

    out, expected = roundtrip["skiff_dir"], roundtrip["skiff_expected"]
    model = skiff.pyfunc.load_model(str(out / "python_model_params"))
    from sklearn.datasets import load_iris

    X, _ = load_iris(return_X_y=True, as_frame=True)
    np.testing.assert_allclose(model.predict(X, params={"shift": 1.0}),
                               expected["python_model_params"])
    assert skiff.pyfunc.load_model(str(out / "python_strings")).predict(["a", "bc"]) == \
        ["A", "BC"]
    hinted = skiff.pyfunc.load_model(str(out / "python_hinted"))
    assert hinted.metadata.is_signature_from_type_hint is True
    assert hinted.predict(["a", "bc"]) == ["A", "BC"]
