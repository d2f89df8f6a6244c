"""ElasticNet regression on scikit-learn's diabetes dataset.

    skiff run examples/sklearn_elasticnet -P alpha=0.3 -P l1_ratio=0.7

Works with Skiff or MLflow as the tracking library: the project runner exports both
SKIFF_* and MLFLOW_* variables, so either one logs into the run it created.
"""

import argparse
import json
import math
import os
import tempfile

try:
    import skiff as mlflow
except ImportError:  # the project's own environment may hold MLflow instead
    import mlflow

from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split


def log_model(model):
    """Log the fitted model with the sklearn flavor when the environment can."""
    try:
        log = mlflow.sklearn.log_model  # loads the flavor (MLflow's is a lazy module)
    except Exception:  # noqa: BLE001 - no flavor or its dependencies: coefficients suffice
        print("no usable sklearn flavor here; logged the coefficients only")
        return
    log(model, name="model")


def main():
    parser = argparse.ArgumentParser()
    # Read as text and logged as given, so the values match what the project run recorded.
    parser.add_argument("--alpha", default="0.5")
    parser.add_argument("--l1-ratio", default="0.1")
    args = parser.parse_args()
    alpha, l1_ratio = float(args.alpha), float(args.l1_ratio)

    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=42)
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    rmse = math.sqrt(mean_squared_error(y_test, predicted))
    mae = mean_absolute_error(y_test, predicted)
    r2 = r2_score(y_test, predicted)
    print(f"ElasticNet(alpha={alpha}, l1_ratio={l1_ratio}): rmse={rmse:.3f} mae={mae:.3f} "
          f"r2={r2:.3f}")

    with mlflow.start_run():
        mlflow.log_params({"alpha": args.alpha, "l1_ratio": args.l1_ratio})
        mlflow.log_metrics({"rmse": rmse, "mae": mae, "r2": r2})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "coefficients.json")
            with open(path, "w") as f:
                json.dump({"intercept": float(model.intercept_),
                           "coef": [float(c) for c in model.coef_]}, f)
            mlflow.log_artifact(path, "model")
        log_model(model)


if __name__ == "__main__":
    main()
