"""Random hyperparameter search over ElasticNet's alpha and l1_ratio.

Each trial is the project's ``train`` entry point, launched with
``projects.run(..., synchronous=False)`` so up to ``--max-parallel`` trials run at once.
Trials are child runs of this one (``mlflow.parentRunId``); the best is logged here.
"""

import argparse
import os
import random

try:
    import skiff as mlflow
    from skiff.tracking.client import Client
except ImportError:
    import mlflow
    from mlflow.tracking import MlflowClient as Client

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-runs", type=int, default=6)
    parser.add_argument("--max-parallel", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    trials = [{"alpha": f"{10 ** rng.uniform(-3, 0):.5f}", "l1_ratio": f"{rng.random():.3f}"}
              for _ in range(args.max_runs)]

    with mlflow.start_run() as parent:
        experiment_id = parent.info.experiment_id
        running, finished = [], []
        for params in trials:
            if len(running) >= args.max_parallel:
                oldest = running.pop(0)
                oldest.wait()
                finished.append(oldest)
            running.append(mlflow.projects.run(
                HERE, entry_point="train", parameters=params, experiment_id=experiment_id,
                env_manager="local", synchronous=False))
        for submitted in running:
            submitted.wait()
            finished.append(submitted)

        client = Client()
        scored = []
        for submitted in finished:
            run = client.get_run(submitted.run_id)
            if run.info.status == "FINISHED" and "val_rmse" in run.data.metrics:
                scored.append((run.data.metrics["val_rmse"], run))
        if not scored:
            raise SystemExit("every trial failed")
        best_rmse, best = min(scored, key=lambda item: item[0])
        mlflow.log_metrics({"best_val_rmse": best_rmse, "trials": float(len(finished))})
        mlflow.log_params({"best_alpha": best.data.params["alpha"],
                           "best_l1_ratio": best.data.params["l1_ratio"]})
        mlflow.set_tag("best_run_id", best.info.run_id)
        print(f"best run {best.info.run_id}: val_rmse={best_rmse:.3f} "
              f"alpha={best.data.params['alpha']} l1_ratio={best.data.params['l1_ratio']}")


if __name__ == "__main__":
    main()
