"""``skiff doctor``: versions, platform, plugins, URIs and settings in effect."""

from __future__ import annotations

import os
import platform
import sys

import click


@click.command("doctor")
@click.option("--mask-envs", is_flag=True,
              help="Show SKIFF_/MLFLOW_ variables' names but mask their values.")
def doctor(mask_envs):
    """Print information useful for debugging and bug reports."""
    from skiff.cli.plugins import plugin_report
    from skiff.tracking._stores import get_registry_uri, get_tracking_uri
    from skiff.version import VERSION

    lines = [
        ("Skiff version", VERSION),
        ("Python version", platform.python_version()),
        ("Python executable", sys.executable),
        ("Platform", platform.platform()),
        ("Tracking URI", get_tracking_uri()),
        ("Registry URI", get_registry_uri()),
    ]
    for label, value in lines:
        click.echo(f"{label}: {value}")
    click.echo("Plugins:")
    for entry in plugin_report(include_builtins=True):
        dist = entry["distribution"] or "-"
        version = entry["version"] or ""
        click.echo(f"  {entry['name']} ({dist} {version}) [{entry['status']}]")
        if entry.get("error"):
            click.echo(f"    error: {entry['error']}")
        for item in entry["registers"]:
            click.echo(f"    {item}")
    names = sorted(k for k in os.environ if k.startswith(("SKIFF_", "MLFLOW_")))
    click.echo("Environment variables:" if names else "Environment variables: (none set)")
    for name in names:
        value = "***" if mask_envs else os.environ[name]
        click.echo(f"  {name}: {value}")
