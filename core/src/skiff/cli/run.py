"""``skiff run URI``: run an MLflow project (MLflow's ``mlflow run`` options)."""

from __future__ import annotations

import sys

import click


def _pairs(values, option: str, allow_flags: bool = False) -> dict:
    out: dict = {}
    for item in values:
        if "=" in item:
            key, value = item.split("=", 1)
            out[key] = value
        elif allow_flags and item:
            out[item] = True
        else:
            raise click.UsageError(f"Invalid format for {option} {item!r}: use {option} "
                                   "name=value")
    return out


@click.command("run")
@click.argument("uri")
@click.option("--entry-point", "-e", metavar="NAME", default="main", show_default=True,
              help="Entry point of the project; a .py or .sh file of the project also works.")
@click.option("--version", "-v", metavar="VERSION",
              help="Git commit, branch or tag to run (Git projects only).")
@click.option("--param-list", "-P", metavar="NAME=VALUE", multiple=True,
              help="A parameter for the entry point; repeat for more.")
@click.option("--docker-args", "-A", metavar="NAME=VALUE", multiple=True,
              help="An argument for 'docker run' (--NAME VALUE, or --NAME for a bare flag).")
@click.option("--experiment-name", envvar=["SKIFF_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"],
              help="Experiment to log the run to (created if missing).")
@click.option("--experiment-id", envvar=["SKIFF_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"],
              help="ID of the experiment to log the run to.")
@click.option("--backend", "-b", metavar="BACKEND", default="local", show_default=True,
              help="Project backend: 'local' or a plugin's backend name.")
@click.option("--backend-config", "-c", metavar="FILE|JSON",
              help="Backend configuration: a .json file or a JSON string.")
@click.option("--env-manager", type=click.Choice(["local", "virtualenv", "uv", "conda"]),
              help="Environment to run in (default: from the project; virtualenv for "
                   "python_env or none, conda for conda_env, docker for docker_env).")
@click.option("--storage-dir", envvar=["SKIFF_TMP_DIR", "MLFLOW_TMP_DIR"],
              help="Where artifacts named by 'path' parameters are downloaded.")
@click.option("--run-id", metavar="RUN_ID", help="Log into this existing run.")
@click.option("--run-name", metavar="NAME", help="Name of the new run.")
@click.option("--build-image", is_flag=True, default=False,
              help="Docker projects: build an image with the project copied in.")
def run(uri, entry_point, version, param_list, docker_args, experiment_name, experiment_id,
        backend, backend_config, env_manager, storage_dir, run_id, run_name, build_image):
    """Run the project at URI (a directory, a Git URI or a .zip; append #subdir to pick a
    subdirectory) as a tracked run."""
    from skiff import projects

    if experiment_name and experiment_id:
        # Both may come from the environment; an explicit name wins like MLflow's CLI.
        experiment_id = None
    params = _pairs(param_list, "-P")
    docker = _pairs(docker_args, "-A", allow_flags=True)
    synchronous = backend == "local"
    try:
        submitted = projects.run(
            uri, entry_point=entry_point, version=version, parameters=params,
            docker_args=docker, experiment_name=experiment_name, experiment_id=experiment_id,
            backend=backend, backend_config=backend_config, storage_dir=storage_dir,
            synchronous=synchronous, run_id=run_id, run_name=run_name,
            env_manager=env_manager, build_image=build_image)
    except projects.ExecutionException as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code or 1)
    except KeyboardInterrupt:
        click.echo("Run cancelled.", err=True)
        sys.exit(130)
    if synchronous:
        click.echo(f"=== Run (ID '{submitted.run_id}') succeeded ===", err=True)
    else:
        click.echo(f"=== Submitted run (ID '{submitted.run_id}') to backend {backend!r} ===",
                   err=True)
