"""Step 3: fit ElasticNet on the processed CSV and log its RMSE."""

import argparse
import csv
import math

from common import mlflow
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="local path of processed/diabetes.csv")
    parser.add_argument("--alpha", type=float, default=0.1)
    args = parser.parse_args()
    with open(args.data, newline="") as f:
        rows = [[float(v) for v in row] for row in list(csv.reader(f))[1:]]
    x, y = [row[:-1] for row in rows], [row[-1] for row in rows]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=1)
    model = ElasticNet(alpha=args.alpha, random_state=1).fit(x_train, y_train)
    rmse = math.sqrt(mean_squared_error(y_test, model.predict(x_test)))
    with mlflow.start_run():
        mlflow.log_metric("rmse", rmse)
    print(f"alpha={args.alpha} rmse={rmse:.3f}")


if __name__ == "__main__":
    main()
