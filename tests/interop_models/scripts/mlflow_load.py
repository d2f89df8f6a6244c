"""Run in a venv with MLflow 3.17.2: load each model directory named on the command line
with mlflow.pyfunc (and mlflow.sklearn where it has that flavor), predict on the iris data,
and print {name: predictions} as JSON."""

import json
import os
import sys

import mlflow.pyfunc
import mlflow.sklearn
from sklearn.datasets import load_iris

X, _ = load_iris(return_X_y=True, as_frame=True)
out = {}
for path in sys.argv[1:]:
    name = path.split(":/", 1)[1] if path.startswith("models:/") else os.path.basename(path)
    model = mlflow.pyfunc.load_model(path)
    if name in ("python_strings", "python_hinted"):
        data = ["a", "bc"]
    elif name.endswith("numpy"):
        data = X.to_numpy()
    elif name.endswith("number_columns"):
        data = X.set_axis(list(range(X.shape[1])), axis=1)
    else:
        data = X
    params = {"shift": 1.0} if name == "python_model_params" else None
    pred = model.predict(data, params=params) if params else model.predict(data)
    pred = pred.tolist() if hasattr(pred, "tolist") else pred
    out[name] = pred
    if "sklearn" in model.metadata.flavors:
        est = mlflow.sklearn.load_model(path)
        out[name + ":raw"] = est.predict(data).tolist()
    sig = model.metadata.signature
    out[name + ":signature"] = sig.to_dict() if sig is not None else None
print(json.dumps(out))
