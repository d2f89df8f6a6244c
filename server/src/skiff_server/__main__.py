"""``python -m skiff_server [server|ui] [options]``: the same commands as ``skiff server``."""

import click

from skiff_server.cli import server, ui


@click.group()
def main():
    """Skiff tracking server."""


main.add_command(server)
main.add_command(ui)

if __name__ == "__main__":
    main()
