"""Registers the ``docker`` deployment target and ``skiff models build-docker`` /
``generate-dockerfile``; the Docker SDK is imported only when they run."""

from skiff.plugins import hookimpl


@hookimpl
def register_deployment_targets(register):
    register("docker", "skiff_deploy_docker.target")


@hookimpl(trylast=True)
def register_commands(cli):
    # Another distribution may own the `models` group (e.g. `skiff models serve`); join it.
    import click

    from skiff_deploy_docker.cli import build_docker, generate_dockerfile

    models = cli.commands.get("models")
    if not isinstance(models, click.Group):
        models = click.Group("models", help="Package and serve models.")
        cli.add_command(models)
    models.add_command(build_docker)
    models.add_command(generate_dockerfile)
