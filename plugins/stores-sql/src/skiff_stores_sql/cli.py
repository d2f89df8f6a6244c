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


@click.command("migrate", help="Copy experiments, runs (deleted ones too), params, tags, "
                               "metric histories, inputs and artifacts from one tracking "
                               "store to another. Safe to run again: copied runs are skipped, "
                               "half-copied ones redone.")
@click.option("--from", "source_uri", required=True, help="Tracking URI to copy from.")
@click.option("--to", "target_uri", required=True, help="Tracking URI to copy to.")
@click.option("--artifacts/--no-artifacts", default=True, show_default=True,
              help="Copy each run's artifacts too.")
def migrate(source_uri, target_uri, artifacts):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from skiff.errors import SkiffException
    from skiff.tracking._stores import get_tracking_store
    from skiff_stores_sql.migrate import Migrator

    try:
        source, target = get_tracking_store(source_uri), get_tracking_store(target_uri)
    except SkiffException as exc:
        _fail(exc)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("runs", total=None)

        def progress(advance, description, total=None):
            bar.update(task, advance=advance, description=description,
                       **({"total": total} if total is not None else {}))

        try:
            report = Migrator(source, target, artifacts, progress).run()
        except SkiffException as exc:
            _fail(exc)
    click.echo(
        f"Copied {report.runs_copied} runs ({report.metric_points} metric points, "
        f"{report.artifact_files} artifact files), skipped {report.runs_skipped} already "
        f"copied, redid {report.runs_redone} interrupted; created "
        f"{report.experiments_created} experiments."
    )
