"""Skiff's side of the round trip: models of every kind saved (and one logged) by Skiff."""

from __future__ import annotations


def _python_model_class():
    import skiff.pyfunc

    def load_context(self, context):
        with open(context.artifacts["factor"]) as fh:
            self.factor = float(fh.read())

    def predict(self, context, model_input, params=None):
        shift = (params or {}).get("shift", 0.0)
        return (model_input["sepal length (cm)"] * self.factor + shift).to_numpy()

    cls = type("Scaled", (skiff.pyfunc.PythonModel,),
               {"load_context": load_context, "predict": predict, "__module__": "__main__"})
    return cls


def _strings_model_class():
    import skiff.pyfunc

    def predict(self, context, model_input, params=None):
        # Without type hints both tools hand a one-column DataFrame to the model.
        return [s.upper() for s in model_input.iloc[:, 0]]

    return type("Upper", (skiff.pyfunc.PythonModel,),
                {"predict": predict, "__module__": "__main__"})


def _hinted_model_class():
    import skiff.pyfunc

    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]

    return type("Hinted", (skiff.pyfunc.PythonModel,),
                {"predict": predict, "__module__": "__main__"})


def save_skiff_models(out, mlruns):
    """Save (and log, into ``mlruns``) one Skiff model of each kind; returns
    (expected predictions by directory name, the logged model's details)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import skiff

    out.mkdir(parents=True, exist_ok=True)
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    expected = {}
    for fmt in ("skops", "cloudpickle", "pickle"):
        skiff.sklearn.save_model(clf, out / f"sklearn_{fmt}", serialization_format=fmt,
                                 input_example=X.head(3))
        expected[f"sklearn_{fmt}"] = clf.predict(X).tolist()
    skiff.sklearn.save_model(clf, out / "sklearn_proba", pyfunc_predict_fn="predict_proba",
                             input_example=X.head(3))
    expected["sklearn_proba"] = clf.predict_proba(X).tolist()
    Xi = X.set_axis(list(range(X.shape[1])), axis=1)
    clf_int = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(Xi, y)
    skiff.sklearn.save_model(clf_int, out / "sklearn_number_columns",
                             input_example=Xi.head(3))
    expected["sklearn_number_columns"] = clf_int.predict(Xi).tolist()
    clf_np = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    skiff.sklearn.save_model(clf_np, out / "sklearn_numpy", input_example=X.to_numpy()[:3])
    expected["sklearn_numpy"] = clf_np.predict(X.to_numpy()).tolist()

    factor = out / "factor.txt"
    factor.write_text("2.5")
    skiff.pyfunc.save_model(out / "python_model_params", python_model=_python_model_class()(),
                            artifacts={"factor": str(factor)},
                            input_example=(X.head(3), {"shift": 0.0}))
    expected["python_model_params"] = (X["sepal length (cm)"] * 2.5 + 1.0).tolist()
    skiff.pyfunc.save_model(out / "python_strings", python_model=_strings_model_class()(),
                            input_example=["x", "y"])
    expected["python_strings"] = ["A", "BC"]
    # signature from type hints: MLflow hands the list itself to the model
    skiff.pyfunc.save_model(out / "python_hinted", python_model=_hinted_model_class()())
    expected["python_hinted"] = ["A", "BC"]
    logged = _log_to_file_store(clf, X, mlruns)
    return expected, logged


def _log_to_file_store(clf, X, mlruns):
    """skiff.sklearn.log_model into a ./mlruns file store, as MLflow 3.x would."""
    import skiff
    from skiff.tracking import _stores

    previous = _stores._tracking_uri
    _stores._tracking_uri = str(mlruns)
    _stores.clear_store_cache()
    try:
        with skiff.start_run():
            info = skiff.sklearn.log_model(clf, name="iris", input_example=X.head(3))
    finally:
        _stores._tracking_uri = previous
        _stores.clear_store_cache()
    return {"model_uri": info.model_uri, "model_id": info.model_id,
            "pred": clf.predict(X).tolist()}
