"""``skiff db``: schema management for SQL tracking databases."""

from __future__ import annotations

import click


def _fail(exc) -> None:
    raise click.ClickException(getattr(exc, "message", str(exc)))


@click.group("db", help="Manage the schema of a SQL tracking database.")
def db():
    pass


@db.command("upgrade", help="Upgrade the schema of the database at URL to the latest "
                            "revision (creating it when the database is empty).")
@click.argument("url")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(url, revision):
    from skiff.errors import SkiffException
    from skiff_stores_sql.schema_version import upgrade as run_upgrade

    try:
        reached = run_upgrade(url, revision)
    except SkiffException as exc:
        _fail(exc)
    click.echo(f"Database schema is at revision {reached}.")


@db.command("current", help="Print the schema revision of the database at URL.")
@click.argument("url")
def current(url):
    from skiff.errors import SkiffException
    from skiff_stores_sql.schema_version import current_revision

    try:
        click.echo(current_revision(url) or "none (empty database)")
    except SkiffException as exc:
        _fail(exc)


_MIGRATE_HELP = """Copy everything from one store to another: experiments (keeping their IDs
where the target can), runs including deleted ones and nesting, full metric histories,
params, tags, dataset inputs and artifacts, then the model registry (models with
description, tags and aliases; versions with their numbers, description, tags, stage, run
link, and the logged models they come from).

\b
Either side is any store Skiff can open:
  ./mlruns or file:///path        a file store
  sqlite:///skiff.db              a Skiff SQL database (also postgresql://, mysql://)
  http://host:5000                a live MLflow or Skiff server
As --from, a database with MLflow's schema (sqlite:///mlflow.db, postgresql://...,
mysql://...) is read directly and never written to, so no MLflow server is needed.

Experiment IDs are kept when the target is a SQL or file store and the ID is free there;
otherwise the experiment gets a new ID and the mapping is printed. Model version numbers
are kept too. Not copied: traces, logged models that no model version points at, and the
registry's own timestamps and user names.

Safe to run again: what was copied is found through skiff.migrate.* tags and skipped, and
an interrupted migration is finished by running the same command.
"""


@click.command("migrate", help=_MIGRATE_HELP, short_help="Copy all tracking and registry "
               "data from one store (or an MLflow database) to another.")
@click.option("--from", "source_uri", required=True, metavar="URI",
              help="Store to copy from (never modified).")
@click.option("--to", "target_uri", required=True, metavar="URI", help="Store to copy to.")
@click.option("--artifacts/--no-artifacts", default=True, show_default=True,
              help="Copy the artifacts of runs and logged models too.")
@click.option("--source-artifacts-destination", metavar="URI",
              help="Where the source's mlflow-artifacts:/ URIs point: the "
                   "--artifacts-destination its server ran with (default ./mlartifacts for "
                   "'mlflow server'). Needed to copy proxied artifacts from a database "
                   "read directly.")
def migrate(source_uri, target_uri, artifacts, source_artifacts_destination):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from skiff.errors import SkiffException
    from skiff_stores_sql.migrate import Migrator
    from skiff_stores_sql.migrate_sources import open_source, open_target

    if source_uri == target_uri:
        raise click.ClickException("--from and --to name the same store")
    try:  # both ends open before the progress bar starts: a bad URI is one line
        source = open_source(source_uri, source_artifacts_destination)
        target, target_registry = open_target(target_uri)
    except SkiffException as exc:
        _fail(exc)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    try:
        with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
            task = bar.add_task("reading", total=None)

            def progress(advance, description, total=None):
                bar.update(task, advance=advance, description=description,
                           **({"total": total} if total is not None else {}))

            report = Migrator(source, target, artifacts, progress,
                              target_registry=target_registry, notify=bar.console.print,
                              target_uri=target_uri).run()
    except SkiffException as exc:
        _fail(exc)
    finally:
        source.close()
    click.echo(report.summary())
