"""One trial of the search: fit ElasticNet, log validation RMSE into the run the project
runner created."""

import argparse
import math

try:
    import skiff as mlflow
except ImportError:
    import mlflow

from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--l1-ratio", type=float, required=True)
    args = parser.parse_args()
    x, y = load_diabetes(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=0)
    model = ElasticNet(alpha=args.alpha, l1_ratio=args.l1_ratio, random_state=0)
    model.fit(x_train, y_train)
    rmse = math.sqrt(mean_squared_error(y_val, model.predict(x_val)))
    with mlflow.start_run():
        mlflow.log_metric("val_rmse", rmse)
    print(f"alpha={args.alpha:.4f} l1_ratio={args.l1_ratio:.3f} val_rmse={rmse:.3f}")


if __name__ == "__main__":
    main()
