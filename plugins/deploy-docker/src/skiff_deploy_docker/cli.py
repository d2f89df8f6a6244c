"""``skiff models build-docker`` and ``skiff models generate-dockerfile``."""

from __future__ import annotations

import click

_env_manager = click.option(
    "--env-manager", default=None, type=click.Choice(["local", "virtualenv", "uv", "conda"]),
    help="How the model's dependencies are installed (the image holds one environment).")
_base_image = click.option(
    "--base-image", default=None,
    help="Image to start from; it needs python3 with venv (default python:<version>-slim).")
_mlserver = click.option(
    "--enable-mlserver", is_flag=True,
    help="Serve with MLServer (the image KServe and Seldon Core expect).")
_bundle = click.option(
    "--bundle-dependencies", is_flag=True,
    help="Download every wheel here into the context, so the build needs no network.")


@click.command("generate-dockerfile")
@click.option("--model-uri", "-m", default=None,
              help="Model to put in the image (none: serve what is mounted at /opt/ml/model).")
@click.option("--output-directory", "-d", default="skiff-dockerfile", show_default=True,
              help="Directory to write the build context to.")
@_env_manager
@_base_image
@_mlserver
@_bundle
def generate_dockerfile(model_uri, output_directory, env_manager, base_image, enable_mlserver,
                        bundle_dependencies):
    """Write a Dockerfile and build context that serve a model on port 8080."""
    from skiff_deploy_docker.image import generate_build_context

    path = generate_build_context(output_directory, model_uri, env_manager=env_manager,
                                  base_image=base_image, enable_mlserver=enable_mlserver,
                                  bundle_dependencies=bundle_dependencies)
    click.echo(f"Generated Dockerfile in {path}")


@click.command("build-docker")
@click.option("--model-uri", "-m", default=None,
              help="Model to put in the image (none: serve what is mounted at /opt/ml/model).")
@click.option("--name", "-n", default="skiff-pyfunc-servable", show_default=True,
              help="Name (tag) of the image.")
@_env_manager
@_base_image
@_mlserver
@_bundle
@click.option("--network", default=None, help="Docker network for the build (e.g. host).")
def build_docker(model_uri, name, env_manager, base_image, enable_mlserver,
                 bundle_dependencies, network):
    """Build an image that serves a model on port 8080 (/ping, /invocations)."""
    import tempfile

    from skiff_deploy_docker.image import build_image, generate_build_context

    with tempfile.TemporaryDirectory(prefix="skiff-docker-") as context:
        generate_build_context(context, model_uri, env_manager=env_manager,
                               base_image=base_image, enable_mlserver=enable_mlserver,
                               bundle_dependencies=bundle_dependencies,
                               model_name=name.split(":")[0].split("/")[-1])
        build_image(context, name, network=network)
    click.echo(f"Built image {name}")
