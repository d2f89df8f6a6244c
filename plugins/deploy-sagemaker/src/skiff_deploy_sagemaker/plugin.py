"""Registers the ``sagemaker`` deployment target and the ``skiff sagemaker`` commands;
boto3 is imported only when a command or client runs."""

from skiff.plugins import hookimpl


@hookimpl
def register_deployment_targets(register):
    register("sagemaker", "skiff_deploy_sagemaker.target")


@hookimpl
def register_commands(cli):
    from skiff_deploy_sagemaker.cli import sagemaker

    cli.add_command(sagemaker)
