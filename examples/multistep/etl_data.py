"""Step 2: standardise the raw CSV's features (processed/diabetes.csv)."""

import argparse
import csv
import os
import statistics
import tempfile

from common import mlflow


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw-data", required=True, help="local path of raw/diabetes.csv")
    args = parser.parse_args()
    with open(args.raw_data, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [[float(v) for v in row] for row in rows[1:]]
    columns = list(zip(*body))
    scaled = []
    for index, column in enumerate(columns[:-1]):
        mean, spread = statistics.fmean(column), statistics.pstdev(column) or 1.0
        scaled.append([(v - mean) / spread for v in column])
        if index == 0:
            print(f"{header[0]}: mean {mean:.4f} spread {spread:.4f}")
    scaled.append(list(columns[-1]))
    with mlflow.start_run(), tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "diabetes.csv")
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(zip(*scaled))
        mlflow.log_artifact(path, "processed")
        mlflow.log_metric("rows", len(body))


if __name__ == "__main__":
    main()
