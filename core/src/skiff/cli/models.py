"""``skiff models``: serve a model over HTTP, score a file with it, build its environment.

The options are MLflow's (``mlflow models serve|predict|prepare-env``). With an env manager
other than ``local``, the model is fetched and checked first, its environment is built (or
found in the cache), and the same command then runs inside it with ``--env-manager local``.
"""

from __future__ import annotations

import os
import sys

import click

from skiff.models.envs import ENV_MANAGERS


def _env(name: str) -> list[str]:
    return [f"SKIFF_{name}", f"MLFLOW_{name}"]


_model_uri = click.option("-m", "--model-uri", required=True, metavar="URI",
                          help="The model: a local path, runs:/, models:/ or artifact URI.")
_env_manager = click.option(
    "--env-manager", type=click.Choice(ENV_MANAGERS), default=None,
    help="Where the model runs: 'local' (this Python), or an environment built from the "
         "model's files with 'virtualenv' (the default, as MLflow), 'uv' or 'conda'.")
_install_mlflow = click.option(
    "--install-mlflow", is_flag=True, default=False,
    help="Also install MLflow into the model's environment (Skiff does not need it).")


@click.group("models")
def models():
    """Serve models, score files with them, and build their environments."""


def _fetch_model(model_uri: str) -> str:
    """The model's local directory; an error naming the URI when it holds no model with a
    python_function flavor (checked before any environment is built)."""
    from skiff.errors import SkiffException
    from skiff.models.model import Model
    from skiff.models.saving import download_model

    local = download_model(model_uri)
    meta = Model.load(local)
    if "python_function" not in meta.flavors:
        raise SkiffException(
            f"The model at '{model_uri}' has no python_function flavor (it has "
            f"{', '.join(sorted(meta.flavors)) or 'none'}), so it cannot be served or scored",
            "INVALID_PARAMETER_VALUE")
    return local


def _resolve_env_manager(env_manager: str | None, no_conda: bool = False) -> str:
    from skiff.models.envs import check_env_manager

    if no_conda:
        if env_manager not in (None, "local"):
            raise click.UsageError("--no-conda means --env-manager local; give only one")
        env_manager = "local"
    env_manager = env_manager or "virtualenv"
    check_env_manager(env_manager)
    return env_manager


def _prepare(model_dir, env_manager, install_mlflow, overrides=None):
    from skiff.models.envs import prepare_model_env

    return prepare_model_env(model_dir, env_manager, install_mlflow, overrides)


@models.command("serve")
@_model_uri
@click.option("-p", "--port", envvar=_env("PORT"), default=5000, show_default=True, type=int,
              help="Port to listen on.")
@click.option("-h", "--host", envvar=_env("HOST"), default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for all interfaces).")
@click.option("-t", "--timeout", envvar=_env("SCORING_SERVER_REQUEST_TIMEOUT"), default=60,
              show_default=True, type=float,
              help="Seconds a request may run before it is answered with 504 (0: no limit).")
@click.option("-w", "--workers", envvar=_env("MODELS_WORKERS"), default=1, show_default=True,
              type=click.IntRange(min=1), help="Worker processes, each with the model loaded.")
@_env_manager
@click.option("--no-conda", is_flag=True, default=False, hidden=True,
              help="Deprecated: the same as --env-manager local.")
@_install_mlflow
@click.option("--enable-mlserver", is_flag=True, default=False,
              help="Serve with Seldon's MLServer (not supported by `serve`: use "
                   "`skiff models build-docker --enable-mlserver`).")
def serve(model_uri, port, host, timeout, workers, env_manager, no_conda, install_mlflow,
          enable_mlserver):
    """Serve a model over HTTP: /ping, /health, /version and POST /invocations."""
    if enable_mlserver:
        raise click.UsageError(
            "--enable-mlserver is not supported by `skiff models serve`; Skiff serves models "
            "with its own scoring server. For MLServer (KServe, Seldon) build an image with "
            "`skiff models build-docker --enable-mlserver`.")
    model_dir = _fetch_model(model_uri)
    env_manager = _resolve_env_manager(env_manager, no_conda)
    if env_manager != "local":
        from skiff.models.envs import exec_in_env

        prefix = _prepare(model_dir, env_manager, install_mlflow)
        exec_in_env(prefix, ["models", "serve", "-m", model_dir, "--env-manager", "local",
                             "-p", str(port), "-h", host, "-t", str(timeout),
                             "-w", str(workers)])
        return
    try:
        from skiff_server.scoring.runner import serve as run_server
    except ImportError:
        raise click.ClickException(
            "Serving models needs the scoring server: pip install skiff-server") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving model {model_uri} at http://{shown}:{port} "
               f"(/ping, /invocations; {workers} worker{'s' if workers > 1 else ''})", err=True)
    run_server(model_dir, host=host, port=port, workers=workers, timeout=timeout or None)


@models.command("predict")
@_model_uri
@click.option("-i", "--input-path", default=None, type=click.Path(dir_okay=False),
              help="File to score (default: standard input).")
@click.option("-o", "--output-path", default=None, type=click.Path(dir_okay=False),
              help="Where to write the predictions (default: standard output).")
@click.option("-t", "--content-type", type=click.Choice(["json", "csv"]), default="json",
              show_default=True,
              help="Input format: json (a scoring request: dataframe_split, "
                   "dataframe_records, instances or inputs) or csv (with a header row).")
@_env_manager
@_install_mlflow
@click.option("-r", "--pip-requirements-override", default=None, metavar="REQS",
              help="Requirements installed over the model's, e.g. 'x==1.2,y==3.0'.")
@click.option("--env", "env_vars", multiple=True, metavar="KEY=VALUE",
              help="An environment variable set while predicting (repeatable).")
def predict(model_uri, input_path, output_path, content_type, env_manager, install_mlflow,
            pip_requirements_override, env_vars):
    """Score a JSON or CSV file with a model; prints {"predictions": ...}."""
    for item in env_vars:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--env takes KEY=VALUE, got {item!r}")
        os.environ[key] = value
    if input_path is not None and not os.path.isfile(input_path):
        raise click.UsageError(f"Input file '{input_path}' does not exist")
    model_dir = _fetch_model(model_uri)
    env_manager = _resolve_env_manager(env_manager)
    overrides = [r.strip() for r in (pip_requirements_override or "").split(",") if r.strip()]
    if env_manager != "local":
        from skiff.models.envs import exec_in_env

        prefix = _prepare(model_dir, env_manager, install_mlflow, overrides)
        args = ["models", "predict", "-m", model_dir, "-t", content_type,
                "--env-manager", "local"]
        if input_path:
            args += ["-i", os.path.abspath(input_path)]
        if output_path:
            args += ["-o", os.path.abspath(output_path)]
        exec_in_env(prefix, args)
        return
    if overrides:
        click.echo("Note: --pip-requirements-override applies to built environments; "
                   "ignored with --env-manager local", err=True)
    _predict_local(model_dir, input_path, output_path, content_type)


def _predict_local(model_dir: str, input_path, output_path, content_type: str) -> None:
    from skiff.pyfunc.loading import load_model
    from skiff.pyfunc.scoring_io import (
        CONTENT_TYPE_CSV,
        CONTENT_TYPE_JSON,
        encode_predictions,
        parse_invocation_payload,
    )

    if input_path:
        with open(input_path, "rb") as fh:
            body = fh.read()
    else:
        body = sys.stdin.buffer.read()
    model = load_model(model_dir)
    mime = CONTENT_TYPE_CSV if content_type == "csv" else CONTENT_TYPE_JSON
    data, params = parse_invocation_payload(body, mime, model.metadata.get_input_schema())
    text = encode_predictions(model.predict(data, params=params))
    if output_path:
        with open(output_path, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text)


@models.command("prepare-env")
@_model_uri
@_env_manager
@_install_mlflow
def prepare_env(model_uri, env_manager, install_mlflow):
    """Build the model's environment now, so that serve and predict start at once."""
    model_dir = _fetch_model(model_uri)
    env_manager = _resolve_env_manager(env_manager)
    prefix = _prepare(model_dir, env_manager, install_mlflow)
    if prefix is None:
        click.echo("--env-manager local uses this Python environment; nothing to build",
                   err=True)
    else:
        click.echo(f"The model's environment is ready: {' '.join(prefix)}", err=True)
