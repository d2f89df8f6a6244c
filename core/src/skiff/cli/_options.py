"""Options shared by several commands."""

from __future__ import annotations

import click

experiment_id_option = click.option(
    "--experiment-id", "-x", envvar=["SKIFF_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"],
    required=True, help="ID of the experiment.")

view_option = click.option(
    "--view", "-v", type=click.Choice(["active_only", "deleted_only", "all"],
                                      case_sensitive=False),
    default="active_only", show_default=True, help="Which lifecycle stages to list.")


def client():
    from skiff.tracking.client import Client

    return Client()


def print_table(headers: list[str], rows: list[list], indent: str = "") -> None:
    """A plain aligned table (no dependency)."""
    rows = [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    click.echo(indent + line.rstrip())
    click.echo(indent + "  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def format_ms(ms: int | None) -> str:
    """Epoch milliseconds as local 'YYYY-MM-DD HH:MM:SS' ('' when unset)."""
    import datetime

    if not ms:
        return ""
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
