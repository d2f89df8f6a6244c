"""Step 1: write scikit-learn's diabetes dataset as a CSV artifact (raw/diabetes.csv)."""

import csv
import os
import tempfile

from common import mlflow
from sklearn.datasets import load_diabetes


def main():
    data = load_diabetes()
    with mlflow.start_run(), tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "diabetes.csv")
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([*data.feature_names, "target"])
            for row, target in zip(data.data, data.target):
                writer.writerow([*(f"{v:.6f}" for v in row), f"{target:.1f}"])
        mlflow.log_artifact(path, "raw")
        print(f"wrote {len(data.target)} rows to raw/diabetes.csv")


if __name__ == "__main__":
    main()
