"""``skiff runs``: list, describe, delete, restore."""

from __future__ import annotations

import json

import click

from skiff.cli._options import client, print_table, view_option


@click.group("runs")
def runs():
    """Manage runs."""


@runs.command("list")
@click.option("--experiment-id", envvar=["SKIFF_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"],
              required=True, help="The experiment whose runs to list.")
@view_option
def list_runs(experiment_id, view):
    """List an experiment's runs."""
    import datetime

    from skiff.tracking.fluent import search_runs

    found = search_runs(experiment_ids=[experiment_id], run_view_type=view.upper(),
                        output_format="list")
    rows = []
    for run in found:
        start = run.info.start_time
        when = (datetime.datetime.fromtimestamp(start / 1000).strftime("%Y-%m-%d %H:%M:%S")
                if start else "")
        rows.append([when, run.info.run_name, run.info.run_id])
    print_table(["Date", "Name", "ID"], rows)


@runs.command("describe")
@click.option("--run-id", required=True, help="The run to show.")
def describe(run_id):
    """Print a run as JSON."""
    click.echo(json.dumps(client().get_run(run_id).to_dict(), indent=4))


@runs.command("delete")
@click.option("--run-id", required=True, help="The run to soft-delete.")
def delete(run_id):
    """Soft-delete a run (`skiff gc` removes it for good)."""
    client().delete_run(run_id)
    click.echo(f"Run with ID {run_id} has been deleted.")


@runs.command("restore")
@click.option("--run-id", required=True, help="The run to restore.")
def restore(run_id):
    """Restore a deleted run."""
    client().restore_run(run_id)
    click.echo(f"Run with ID {run_id} has been restored.")
