"""The workflow: load_raw_data -> etl_data -> train, each step a project run.

Steps hand their outputs on as ``runs:/<run_id>/<path>`` URIs, which the project runner
downloads for the next step's ``path`` parameter. A step that already finished with the
same parameters (and Git commit, when there is one) is reused instead of run again.
"""

import argparse
import os

from common import Client, mlflow

HERE = os.path.dirname(os.path.abspath(__file__))
ENTRY_POINT_TAG = "mlflow.project.entryPoint"
COMMIT_TAG = "mlflow.source.git.commit"


def find_finished(client, experiment_id, entry_point, parameters, git_commit):
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{ENTRY_POINT_TAG}` = '{entry_point}'")
    for run in runs:
        if run.info.status != "FINISHED":
            continue
        if git_commit and run.data.tags.get(COMMIT_TAG) != git_commit:
            continue
        if all(run.data.params.get(k) == str(v) for k, v in parameters.items()):
            return run
    return None


def get_or_run(client, experiment_id, entry_point, parameters, git_commit):
    existing = find_finished(client, experiment_id, entry_point, parameters, git_commit)
    if existing is not None:
        print(f"reusing finished run {existing.info.run_id} for {entry_point}")
        return existing
    print(f"launching {entry_point} with {parameters}")
    submitted = mlflow.projects.run(HERE, entry_point=entry_point, parameters=parameters,
                                    experiment_id=experiment_id, env_manager="local")
    return client.get_run(submitted.run_id)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", default="0.1")
    args = parser.parse_args()
    client = Client()
    with mlflow.start_run() as active:
        experiment_id = active.info.experiment_id
        git_commit = active.data.tags.get(COMMIT_TAG)
        raw = get_or_run(client, experiment_id, "load_raw_data", {}, git_commit)
        raw_uri = f"runs:/{raw.info.run_id}/raw/diabetes.csv"
        etl = get_or_run(client, experiment_id, "etl_data", {"raw_data": raw_uri}, git_commit)
        processed_uri = f"runs:/{etl.info.run_id}/processed/diabetes.csv"
        trained = get_or_run(client, experiment_id, "train",
                             {"data": processed_uri, "alpha": args.alpha}, git_commit)
        mlflow.log_metric("rmse", trained.data.metrics["rmse"])
        mlflow.set_tags({"step.load_raw_data": raw.info.run_id, "step.etl_data": etl.info.run_id,
                         "step.train": trained.info.run_id})


if __name__ == "__main__":
    main()
