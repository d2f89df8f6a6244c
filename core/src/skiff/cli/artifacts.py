"""``skiff artifacts``: list, download, log-artifact, log-artifacts."""

from __future__ import annotations

import json

import click

from skiff.cli._options import client


@click.group("artifacts")
def artifacts():
    """Upload, list and download artifacts of runs (any artifact store plugin)."""


@artifacts.command("log-artifact")
@click.option("--local-file", "-l", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The file to upload.")
@click.option("--run-id", "-r", required=True, help="The run to log into.")
@click.option("--artifact-path", "-a", default=None,
              help="Directory inside the run's artifact root.")
def log_artifact(local_file, run_id, artifact_path):
    """Upload one file as an artifact of a run."""
    c = client()
    c.log_artifact(run_id, local_file, artifact_path)
    uri = c.get_run(run_id).info.artifact_uri
    click.echo(f"Logged artifact from local file {local_file} to artifact_path={artifact_path} "
               f"(artifact root {uri})")


@artifacts.command("log-artifacts")
@click.option("--local-dir", "-l", required=True,
              type=click.Path(exists=True, file_okay=False), help="The directory to upload.")
@click.option("--run-id", "-r", required=True, help="The run to log into.")
@click.option("--artifact-path", "-a", default=None,
              help="Directory inside the run's artifact root.")
def log_artifacts(local_dir, run_id, artifact_path):
    """Upload a directory's contents as artifacts of a run."""
    c = client()
    c.log_artifacts(run_id, local_dir, artifact_path)
    uri = c.get_run(run_id).info.artifact_uri
    click.echo(f"Logged artifacts from local dir {local_dir} to artifact_path={artifact_path} "
               f"(artifact root {uri})")


@artifacts.command("list")
@click.option("--run-id", "-r", required=True, help="The run whose artifacts to list.")
@click.option("--artifact-path", "-a", default=None, help="A directory inside the run.")
def list_artifacts(run_id, artifact_path):
    """Print the artifacts of a run as JSON."""
    infos = client().list_artifacts(run_id, artifact_path)
    click.echo(json.dumps([i.to_dict() for i in infos], indent=2))


@artifacts.command("download")
@click.option("--run-id", "-r", default=None, help="A run whose artifacts to download.")
@click.option("--artifact-path", "-a", default=None, help="A path inside the run.")
@click.option("--artifact-uri", "-u", default=None,
              help="Any artifact URI (runs:/, models:/, s3://, ...) instead of a run.")
@click.option("--dst-path", "-d", default=None, help="Local destination directory.")
def download(run_id, artifact_path, artifact_uri, dst_path):
    """Download artifacts and print the local path."""
    from skiff.artifacts.download import download_artifacts

    if not run_id and not artifact_uri:
        raise click.UsageError("Either --run-id or --artifact-uri must be provided.")
    if run_id and artifact_uri:
        raise click.UsageError("Only one of --run-id and --artifact-uri may be provided.")
    click.echo(download_artifacts(artifact_uri=artifact_uri, run_id=run_id,
                                  artifact_path=artifact_path, dst_path=dst_path))
