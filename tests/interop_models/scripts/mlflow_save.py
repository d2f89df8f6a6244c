"""Run in a venv with MLflow 3.17.2: save models of every kind into OUT_DIR and record
their predictions on the iris data in OUT_DIR/expected.json."""

import json
import os
import sys

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
# Explicit requirements: MLflow's inference loads each model in a subprocess (~20 s each).
REQS = ["scikit-learn", "skops", "cloudpickle", "pandas"]
X, y = load_iris(return_X_y=True, as_frame=True)
clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
expected = {}

for fmt in ("skops", "cloudpickle", "pickle"):
    path = os.path.join(out, f"sklearn_{fmt}")
    mlflow.sklearn.save_model(clf, path, serialization_format=fmt, input_example=X.head(3),
                             pip_requirements=REQS)
    expected[f"sklearn_{fmt}"] = clf.predict(X).tolist()

path = os.path.join(out, "sklearn_proba")
mlflow.sklearn.save_model(clf, path, pyfunc_predict_fn="predict_proba", input_example=X.head(3),
                             pip_requirements=REQS)
expected["sklearn_proba"] = clf.predict_proba(X).tolist()

# Number column labels: MLflow writes them as JSON numbers (0..n-1 left out of examples).
Xi = X.set_axis(list(range(X.shape[1])), axis=1)
clf_int = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(Xi, y)
path = os.path.join(out, "sklearn_number_columns")
mlflow.sklearn.save_model(clf_int, path, input_example=Xi.head(3), pip_requirements=REQS)
expected["sklearn_number_columns"] = clf_int.predict(Xi).tolist()

Xn = X.to_numpy()
clf_np = LogisticRegression(max_iter=500).fit(Xn, y)
path = os.path.join(out, "sklearn_numpy")
mlflow.sklearn.save_model(clf_np, path, input_example=Xn[:3], pip_requirements=REQS)
expected["sklearn_numpy"] = clf_np.predict(Xn).tolist()


class Scaled(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["factor"]) as fh:
            self.factor = float(fh.read())

    def predict(self, context, model_input, params=None):
        shift = (params or {}).get("shift", 0.0)
        return (model_input["sepal length (cm)"] * self.factor + shift).to_numpy()


factor_file = os.path.join(out, "factor.txt")
with open(factor_file, "w") as fh:
    fh.write("2.5")
path = os.path.join(out, "python_model")
mlflow.pyfunc.save_model(path, python_model=Scaled(), artifacts={"factor": factor_file},
                         input_example=(X.head(3), {"shift": 0.0}), pip_requirements=REQS)
expected["python_model"] = (X["sepal length (cm)"] * 2.5).tolist()
expected["python_model_shift"] = (X["sepal length (cm)"] * 2.5 + 1.0).tolist()


class NoContext(mlflow.pyfunc.PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]


path = os.path.join(out, "python_model_hints")
mlflow.pyfunc.save_model(path, python_model=NoContext(), input_example=["a", "b"],
                         pip_requirements=REQS)
expected["python_model_hints"] = ["A", "B"]

with open(os.path.join(out, "expected.json"), "w") as fh:
    json.dump(expected, fh)
print("saved", sorted(expected))

if len(sys.argv) > 2:
    # MLflow 3.x logging: a logged model in a ./mlruns file store, linked to a run.
    mlflow.set_tracking_uri(sys.argv[2])
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(clf, name="iris", input_example=X.head(3),
                                        pip_requirements=REQS)
    expected["logged"] = {"model_id": info.model_id, "run_id": run.info.run_id,
                          "model_uri": info.model_uri, "pred": clf.predict(X).tolist()}
    with open(os.path.join(out, "expected.json"), "w") as fh:
        json.dump(expected, fh)
