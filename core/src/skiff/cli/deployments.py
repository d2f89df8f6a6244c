"""``skiff deployments``: create, update, delete, list, get, predict... on any target plugin."""

from __future__ import annotations

import json

import click

target_option = click.option(
    "--target", "-t", required=True,
    help="Deployment target URI, e.g. 'sagemaker:/us-east-1' or 'docker'. "
         "`skiff deployments help -t NAME` describes a target.")
name_option = click.option("--name", required=True, help="Name of the deployment.")
endpoint_option = click.option("--endpoint", default=None, help="Name of the endpoint.")
flavor_option = click.option("--flavor", "-f", default=None,
                             help="Model flavor to deploy (the target picks a default).")
config_option = click.option(
    "--config", "-C", "config", multiple=True, metavar="NAME=VALUE",
    help="Target-specific setting (repeatable); see `skiff deployments help -t TARGET`.")


def _parse_config(pairs) -> dict:
    config = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="-C/--config")
        config[key.strip()] = value
    return config


def _client(target):
    from skiff.deployments.targets import get_deploy_client

    return get_deploy_client(target)


def _echo_json(value) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


@click.group("deployments")
def deployments():
    """Deploy models to serving targets (SageMaker, Docker, or any target plugin)."""


@deployments.command("create")
@target_option
@name_option
@click.option("--model-uri", "-m", required=True,
              help="Model URI: a path, runs:/<id>/<path>, models:/<name>@<alias>, s3://...")
@flavor_option
@config_option
@endpoint_option
def create(target, name, model_uri, flavor, config, endpoint):
    """Deploy a model to a target."""
    deployment = _client(target).create_deployment(
        name, model_uri, flavor, config=_parse_config(config), endpoint=endpoint)
    click.echo(f"{deployment.get('flavor', flavor) or 'model'} deployment "
               f"{deployment.get('name', name)!r} is created")


@deployments.command("update")
@target_option
@name_option
@click.option("--model-uri", "-m", default=None, help="The new model's URI.")
@flavor_option
@config_option
@endpoint_option
def update(target, name, model_uri, flavor, config, endpoint):
    """Update a deployment's model and/or configuration."""
    deployment = _client(target).update_deployment(
        name, model_uri=model_uri, flavor=flavor, config=_parse_config(config),
        endpoint=endpoint)
    click.echo(f"Deployment {(deployment or {}).get('name', name)!r} is updated "
               f"(flavor {(deployment or {}).get('flavor', flavor)})")


@deployments.command("delete")
@target_option
@name_option
@config_option
@endpoint_option
def delete(target, name, config, endpoint):
    """Delete a deployment."""
    _client(target).delete_deployment(name, config=_parse_config(config), endpoint=endpoint)
    click.echo(f"Deployment {name!r} is deleted")


@deployments.command("list")
@target_option
@endpoint_option
def list_(target, endpoint):
    """List the deployments of a target."""
    _echo_json(_client(target).list_deployments(endpoint=endpoint))


@deployments.command("get")
@target_option
@name_option
@endpoint_option
def get(target, name, endpoint):
    """Show one deployment."""
    _echo_json(_client(target).get_deployment(name, endpoint=endpoint))


def _read_inputs(input_path: str):
    """JSON files load as JSON (a scoring payload); anything else is read as CSV."""
    if input_path.lower().endswith(".json"):
        with open(input_path, encoding="utf-8") as f:
            try:
                return json.load(f)
            except ValueError as exc:
                raise click.BadParameter(f"{input_path} is not valid JSON: {exc}",
                                         param_hint="-I/--input-path") from None
    import pandas as pd

    return pd.read_csv(input_path)


def _write_output(result, output_path: str | None) -> None:
    text = result.to_json() if hasattr(result, "to_json") and not hasattr(
        result, "columns") else json.dumps(result, default=str)
    if output_path:
        with open(output_path, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text)


def _check_name_or_endpoint(name, endpoint) -> None:
    if (name is None) == (endpoint is None):
        raise click.UsageError("Pass exactly one of --name and --endpoint.")


_input_option = click.option("--input-path", "-I", required=True,
                             type=click.Path(exists=True, dir_okay=False),
                             help="JSON (a scoring payload) or CSV file of model inputs.")
_output_option = click.option("--output-path", "-O", default=None,
                              help="Write the result here instead of stdout.")


@deployments.command("predict")
@target_option
@click.option("--name", default=None, help="Name of the deployment.")
@endpoint_option
@_input_option
@_output_option
def predict(target, name, endpoint, input_path, output_path):
    """Score inputs with a deployment (or an endpoint)."""
    _check_name_or_endpoint(name, endpoint)
    result = _client(target).predict(name, _read_inputs(input_path), endpoint=endpoint)
    _write_output(result, output_path)


@deployments.command("explain")
@target_option
@click.option("--name", default=None, help="Name of the deployment.")
@endpoint_option
@_input_option
@_output_option
def explain(target, name, endpoint, input_path, output_path):
    """Explain a deployment's predictions for the inputs (where the target supports it)."""
    _check_name_or_endpoint(name, endpoint)
    result = _client(target).explain(name, _read_inputs(input_path), endpoint=endpoint)
    _write_output(result, output_path)


@deployments.command("run-local")
@target_option
@name_option
@click.option("--model-uri", "-m", required=True, help="Model URI.")
@flavor_option
@config_option
def run_local(target, name, model_uri, flavor, config):
    """Serve the model locally the way the target would."""
    from skiff.deployments.targets import run_local as run

    run(target, name, model_uri, flavor=flavor, config=_parse_config(config))


@deployments.command("help")
@target_option
def help_(target):
    """Print a target's own help: URI format, config keys, examples."""
    from skiff.deployments.targets import target_help

    click.echo(target_help(target))


@deployments.command("create-endpoint")
@target_option
@click.option("--endpoint", required=True, help="Name of the endpoint.")
@config_option
def create_endpoint(target, endpoint, config):
    """Create an endpoint."""
    _echo_json(_client(target).create_endpoint(endpoint, config=_parse_config(config)))


@deployments.command("update-endpoint")
@target_option
@click.option("--endpoint", required=True, help="Name of the endpoint.")
@config_option
def update_endpoint(target, endpoint, config):
    """Update an endpoint's configuration."""
    _echo_json(_client(target).update_endpoint(endpoint, config=_parse_config(config)))


@deployments.command("delete-endpoint")
@target_option
@click.option("--endpoint", required=True, help="Name of the endpoint.")
def delete_endpoint(target, endpoint):
    """Delete an endpoint."""
    _client(target).delete_endpoint(endpoint)
    click.echo(f"Endpoint {endpoint!r} is deleted")


@deployments.command("list-endpoints")
@target_option
def list_endpoints(target):
    """List a target's endpoints."""
    _echo_json(_client(target).list_endpoints())


@deployments.command("get-endpoint")
@target_option
@click.option("--endpoint", required=True, help="Name of the endpoint.")
def get_endpoint(target, endpoint):
    """Show one endpoint."""
    _echo_json(_client(target).get_endpoint(endpoint))
