"""``skiff gc``: permanently delete soft-deleted runs and experiments (and artifacts)."""

from __future__ import annotations

import re

import click

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
                       r"(?:(\d+(?:\.\d+)?)s)?$")


def parse_older_than(text: str | None) -> int:
    """'1d2h3m4.5s' -> milliseconds."""
    if not text:
        return 0
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        raise click.BadParameter(
            f"Could not parse {text!r}: use the #d#h#m#s format, e.g. '1d2h3m4s' or '1.5h'",
            param_hint="--older-than")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return int(((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000)


@click.command("gc")
@click.option("--older-than", default=None,
              help="Only delete runs deleted at least this long ago (#d#h#m#s, e.g. 1d2h).")
@click.option("--backend-store-uri", default=None,
              envvar=["SKIFF_BACKEND_STORE_URI", "MLFLOW_BACKEND_STORE_URI"],
              help="The store to clean (default: the tracking URI).")
@click.option("--artifacts-destination", default=None,
              envvar=["SKIFF_ARTIFACTS_DESTINATION", "MLFLOW_ARTIFACTS_DESTINATION"],
              help="Root of proxied artifacts (mlflow-artifacts:/ URIs resolve under it).")
@click.option("--run-ids", default=None, help="Comma-separated runs to delete (all deleted "
              "runs by default).")
@click.option("--experiment-ids", default=None,
              help="Comma-separated deleted experiments to delete with all their runs.")
def gc(older_than, backend_store_uri, artifacts_destination, run_ids, experiment_ids):
    """Permanently delete runs (and experiments) in the deleted lifecycle stage."""
    from skiff.errors import SkiffException
    from skiff.tracking._stores import get_tracking_store

    store = get_tracking_store(backend_store_uri)
    older_ms = parse_older_than(older_than)
    deleted = set(store._get_deleted_runs(older_than=older_ms))
    exp_ids = [e.strip() for e in experiment_ids.split(",")] if experiment_ids else []
    for exp_id in exp_ids:
        experiment = store.get_experiment(exp_id)
        if experiment.lifecycle_stage != "deleted":
            raise SkiffException.invalid_parameter_value(
                f"Experiment {exp_id} is not in the deleted lifecycle stage; only deleted "
                "experiments can be permanently deleted.")
    if run_ids:
        targets = [r.strip() for r in run_ids.split(",") if r.strip()]
        for run_id in targets:
            run = store.get_run(run_id)
            if run.info.lifecycle_stage != "deleted":
                raise SkiffException.invalid_parameter_value(
                    f"Run {run_id} is not in the deleted lifecycle stage; only deleted runs "
                    "can be permanently deleted.")
            if older_ms and run_id not in deleted:
                raise SkiffException.invalid_parameter_value(
                    f"Run {run_id} was deleted less than {older_than} ago.")
    else:
        targets = sorted(deleted)
    for exp_id in exp_ids:
        targets += [r.info.run_id for r in store.search_runs([exp_id], "", 3, 50000)]
    for run_id in dict.fromkeys(targets):
        run = store.get_run(run_id)
        _delete_artifacts(run.info.artifact_uri, artifacts_destination)
        store._hard_delete_run(run_id)
        click.echo(f"Run with ID {run_id} has been permanently deleted.")
    for exp_id in exp_ids:
        store._hard_delete_experiment(exp_id)
        click.echo(f"Experiment with ID {exp_id} has been permanently deleted.")


def _delete_artifacts(artifact_uri: str, artifacts_destination: str | None) -> None:
    from skiff.artifacts.resolve import get_artifact_repository

    if artifact_uri.startswith("mlflow-artifacts:"):
        if not artifacts_destination:
            return  # the server's proxy owns these; nothing local to delete
        from skiff.utils.uri import append_to_uri_path

        path = artifact_uri.split(":", 1)[1].lstrip("/")
        artifact_uri = append_to_uri_path(artifacts_destination, path)
    try:
        get_artifact_repository(artifact_uri).delete_artifacts()
    except Exception as exc:  # the run is deleted anyway; say what was left behind
        click.echo(f"Warning: could not delete artifacts at {artifact_uri}: {exc}", err=True)
