"""The ``skiff`` command line. Core commands live in this package, one module per group;
plugins add theirs through the ``register_commands(cli)`` hook."""

from __future__ import annotations

import sys

import click

from skiff.version import VERSION


class SkiffGroup(click.Group):
    """Turns any error into one line on stderr and exit code 1 (no traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - the CLI's single error boundary
            from skiff.errors import SkiffException

            if isinstance(exc, SkiffException):
                message = exc.message
            else:
                message = f"{type(exc).__name__}: {exc}"
            click.echo(f"Error: {' '.join(message.split())}", err=True)
            sys.exit(1)


@click.group(cls=SkiffGroup)
@click.version_option(VERSION, prog_name="skiff")
@click.option("--env-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Load environment variables from a dotenv file (existing ones win).")
def cli(env_file):
    """Skiff: track experiments, package and serve models, run projects, deploy."""
    if env_file:
        _load_env_file(env_file)


def _load_env_file(path: str) -> None:
    import os

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            key = key.removeprefix("export ").strip()
            os.environ.setdefault(key, value.strip().strip("'\""))


def _add_core_commands(group: click.Group) -> None:
    from skiff.cli import (
        artifacts,
        deployments,
        doctor,
        experiments,
        gc,
        model_versions,
        models,
        plugins,
        registered_models,
        run,
        runs,
    )

    group.add_command(experiments.experiments)
    group.add_command(runs.runs)
    group.add_command(artifacts.artifacts)
    group.add_command(gc.gc)
    group.add_command(doctor.doctor)
    group.add_command(plugins.plugins)
    group.add_command(run.run)
    group.add_command(deployments.deployments)
    group.add_command(models.models)
    group.add_command(registered_models.registered_models)
    group.add_command(model_versions.model_versions)


_commands_added = False


def build_cli() -> click.Group:
    """The CLI with core commands and every plugin's commands."""
    global _commands_added
    if not _commands_added:
        _add_core_commands(cli)
        try:
            from skiff.plugins import get_plugin_manager

            get_plugin_manager().hook.register_commands(cli=cli)
        except Exception as exc:  # a broken plugin must not take the CLI down
            click.echo(f"Warning: a plugin failed to add its commands: {exc}", err=True)
        _commands_added = True
    return cli


def main(argv=None):
    build_cli()
    return cli.main(args=argv, prog_name="skiff")
