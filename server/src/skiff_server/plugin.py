"""Skiff plugin entry point of skiff-server: adds ``skiff server`` and ``skiff ui``."""

from skiff.plugins import hookimpl


@hookimpl
def add_hookspecs(pluginmanager):
    from skiff_server import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def register_commands(cli):
    from skiff_server.cli import server, ui

    cli.add_command(server)
    cli.add_command(ui)
