"""Run by the real MLflow client (its own virtualenv) against a ``skiff server`` proxy.

    python mlflow_proxy_client.py <payload dir> <tracking | http artifact URI>

With ``tracking`` it creates an experiment and a run (artifact URI ``mlflow-artifacts:/...``);
with an ``http://.../api/2.0/mlflow-artifacts/artifacts/<path>`` URI (an --artifacts-only
server) it uses that repository directly. It logs the payload (the big file through the
proxied multipart routes when the environment enables them), lists, downloads and deletes,
and prints one JSON line of what it saw.
"""

import hashlib
import json
import os
import sys
import tempfile

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_digests(root):
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(folder, name)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = digest(full)
    return out


def main():
    payload, target = sys.argv[1], sys.argv[2]
    out = {}
    if target == "tracking":
        from mlflow import MlflowClient

        client = MlflowClient()
        experiment_id = client.create_experiment(f"proxy-{os.environ['PROXY_TAG']}")
        run = client.create_run(experiment_id)
        uri = run.info.artifact_uri
        out.update(experiment_id=experiment_id, run_id=run.info.run_id)
    else:
        uri = target
    out["artifact_uri"] = uri
    repo = get_artifact_repository(uri)
    repo.log_artifact(os.path.join(payload, "notes.txt"))
    repo.log_artifacts(os.path.join(payload, "tree"), "tree")
    repo.log_artifact(os.path.join(payload, "model", "weights.bin"), "model")

    def listing(path=None):
        return [[f.path, f.is_dir, f.file_size] for f in repo.list_artifacts(path)]

    out["root"] = listing()
    out["tree"] = listing("tree")
    out["model"] = listing("model")
    dst = tempfile.mkdtemp()
    out["weights"] = digest(repo.download_artifacts("model/weights.bin", dst))
    out["tree_files"] = tree_digests(repo.download_artifacts("tree", tempfile.mkdtemp()))
    if target == "tracking":  # the fluent helper resolves runs:/ through the server
        import mlflow

        text = mlflow.artifacts.load_text(f"runs:/{out['run_id']}/notes.txt")
        out["notes"] = text
    repo.delete_artifacts("tree")
    out["root_after_delete"] = listing()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
