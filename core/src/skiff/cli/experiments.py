"""``skiff experiments``: create, search, delete, restore, rename, csv."""

from __future__ import annotations

import click

from skiff.cli._options import client, experiment_id_option, print_table, view_option


@click.group("experiments")
def experiments():
    """Manage experiments."""


@experiments.command("create")
@click.option("--experiment-name", "-n", required=True, help="Name of the new experiment.")
@click.option("--artifact-location", "-l", default=None,
              help="Where the experiment's runs store artifacts (a URI).")
def create(experiment_name, artifact_location):
    """Create an experiment."""
    experiment_id = client().create_experiment(experiment_name, artifact_location)
    click.echo(f"Created experiment '{experiment_name}' with id {experiment_id}")


@experiments.command("search")
@view_option
@click.option("--max-results", type=int, default=None, help="At most this many experiments.")
def search(view, max_results):
    """List experiments."""
    from skiff.tracking.fluent import search_experiments

    found = search_experiments(view_type=view.upper(), max_results=max_results)
    print_table(["Experiment Id", "Name", "Artifact Location"],
                [[e.experiment_id, e.name, e.artifact_location] for e in found])


@experiments.command("delete")
@experiment_id_option
def delete(experiment_id):
    """Soft-delete an experiment (restore it with `skiff experiments restore`)."""
    client().delete_experiment(experiment_id)
    click.echo(f"Experiment with ID {experiment_id} has been deleted.")


@experiments.command("restore")
@experiment_id_option
def restore(experiment_id):
    """Restore a deleted experiment."""
    client().restore_experiment(experiment_id)
    click.echo(f"Experiment with id {experiment_id} has been restored.")


@experiments.command("rename")
@experiment_id_option
@click.option("--new-name", required=True, help="The new name.")
def rename(experiment_id, new_name):
    """Rename an active experiment."""
    c = client()
    old = c.get_experiment(experiment_id).name
    c.rename_experiment(experiment_id, new_name)
    click.echo(f"Experiment with id {experiment_id} has been renamed from '{old}' to '{new_name}'.")


@experiments.command("csv")
@experiment_id_option
@click.option("--filename", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write here instead of standard output.")
def csv(experiment_id, filename):
    """Export an experiment's runs as CSV (needs pandas)."""
    from skiff.tracking.fluent import search_runs

    client().get_experiment(experiment_id)  # a clear error for unknown IDs
    frame = search_runs(experiment_ids=[experiment_id], output_format="pandas")
    if filename:
        frame.to_csv(filename, index=False)
    else:
        click.echo(frame.to_csv(index=False), nl=False)
