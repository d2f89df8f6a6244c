"""The ``local`` project backend: fetch, validate, track, prepare the environment, start.

Every check that can fail on bad input (URI, entry point, parameters, environment tool)
runs before the run is created, so a mistake leaves nothing behind.
"""

from __future__ import annotations

import os
import subprocess
import sys

import attrs

from skiff.errors import SkiffException
from skiff.projects.submitted import LocalSubmittedRun

# backend_config keys; the names are MLflow's so backend plugins written for it read them.
ENV_MANAGER = "ENV_MANAGER"
SYNCHRONOUS = "SYNCHRONOUS"
DOCKER_ARGS = "DOCKER_ARGS"
STORAGE_DIR = "STORAGE_DIR"
BUILD_IMAGE = "build_image"
DOCKER_AUTH = "docker_auth"
RUN_ID = "_mlflow_local_backend_run_id"
RUN_NAME = "run_name"

SOURCE_TYPE_TAG = "mlflow.source.type"
SOURCE_NAME_TAG = "mlflow.source.name"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_REPO_TAG = "mlflow.source.git.repoURL"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
ENTRY_POINT_TAG = "mlflow.project.entryPoint"
ENV_TAG = "mlflow.project.env"
BACKEND_TAG = "mlflow.project.backend"
PARENT_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"


def child_environment(tracking_uri: str, run_id: str, experiment_id: str) -> dict[str, str]:
    """The caller's environment plus where to log: both spellings, so code using
    ``import skiff`` or ``import mlflow`` resumes the run."""
    from skiff.registry import uri_scheme

    env = dict(os.environ)
    for prefix in ("SKIFF_", "MLFLOW_"):
        # The run fixes the experiment; a name inherited from the caller could disagree.
        env.pop(prefix + "EXPERIMENT_NAME", None)
        env[prefix + "TRACKING_URI"] = tracking_uri
        env[prefix + "RUN_ID"] = run_id
        env[prefix + "EXPERIMENT_ID"] = str(experiment_id)
    if uri_scheme(tracking_uri) in ("", "file"):
        # MLflow 3 refuses a file store unless told; this one is Skiff's, in MLflow's layout.
        env.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return env


def absolute_tracking_uri(uri: str) -> str:
    """The child runs in the project directory, so a relative store path must be
    absolute."""
    from skiff.registry import uri_scheme

    if uri_scheme(uri) == "":
        return os.path.abspath(uri)
    if uri.startswith("file:") and not uri.startswith("file:/"):
        return "file://" + os.path.abspath(uri[5:])
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        path, sep, query = uri[len("sqlite:///"):].partition("?")
        if path and path != ":memory:":
            return "sqlite:///" + os.path.abspath(path) + sep + query
    return uri


def get_env_manager(name: str):
    from skiff.plugins import get_registries

    registry = get_registries().env_managers
    if name not in registry:
        choices = ", ".join(registry.names()) or "none"
        raise SkiffException.invalid_parameter_value(
            f"Unknown environment manager {name!r}; installed: {choices}")
    return registry.get(name)()


@attrs.define
class PreparedProject:
    fetched: object
    project: object
    entry_point: object
    resolved: object
    env_name: str
    manager: object
    config: dict
    tracking_uri: str


def _choose_env_manager(project, requested: str | None) -> str:
    """As MLflow: a docker_env project always runs in Docker; otherwise the request, else
    the project's kind."""
    from skiff.projects.envs import default_env_manager

    if project.docker_env is not None:
        return "docker"
    if requested and requested.lower() == "conda" and project.env_type == "python" and (
            project.python_env is not None):
        raise SkiffException.invalid_parameter_value(
            "A python_env project cannot run with conda; use --env-manager virtualenv, uv or "
            "local")
    return (requested or default_env_manager(project)).lower()


class LocalBackend:
    """Runs the project's entry point as a child process on this machine."""

    name = "local"

    def run(self, project_uri, entry_point, params, version, backend_config, tracking_uri,
            experiment_id) -> LocalSubmittedRun:
        prepared = self.prepare(project_uri, entry_point, params, version, backend_config,
                                tracking_uri)
        return self.launch(prepared, experiment_id)

    def prepare(self, project_uri, entry_point, params, version, backend_config,
                tracking_uri) -> PreparedProject:
        """Everything that can fail on bad input, with no side effect but ``path``
        downloads: fetch, read the MLproject, check parameters and the env tool."""
        from skiff.projects.fetch import fetch_project
        from skiff.projects.params import check_parameters, localize_paths
        from skiff.projects.spec import load_project

        config = dict(backend_config or {})
        fetched = fetch_project(project_uri, version)
        try:
            project = load_project(fetched.directory)
            ep = project.get_entry_point(entry_point or "main")
            resolved = check_parameters(ep, params, project.directory)
            env_name = _choose_env_manager(project, config.get(ENV_MANAGER))
            manager = get_env_manager(env_name)
            manager.check(project)
            tracking_uri = absolute_tracking_uri(tracking_uri)
            localize_paths(ep, resolved, config.get(STORAGE_DIR), tracking_uri,
                           project.directory)
        except BaseException:
            fetched.cleanup()
            raise
        return PreparedProject(fetched, project, ep, resolved, env_name, manager, config,
                               tracking_uri)

    def launch(self, prepared: PreparedProject, experiment_id) -> LocalSubmittedRun:
        """Create (or reuse) the run, build the environment, start the command; a Git
        checkout or extracted archive is deleted once the command ends."""
        p = prepared
        try:
            return self._launch(p, experiment_id)
        except BaseException:
            p.fetched.cleanup()
            raise

    def _launch(self, p: PreparedProject, experiment_id) -> LocalSubmittedRun:
        from skiff.entities import Param
        from skiff.projects.envs import EnvOptions
        from skiff.tracking.client import Client

        command = p.resolved.command(p.entry_point)
        client = Client(tracking_uri=p.tracking_uri)
        tags = self._tags(p.fetched, p.entry_point.name, p.env_name)
        run_id = p.config.get(RUN_ID)
        if run_id:
            run = client.get_run(run_id)
            client.log_batch(run_id, tags=_tag_list(tags), synchronous=True)
        else:
            run = _create_run(client, experiment_id, tags, p.config.get(RUN_NAME))
            run_id = run.info.run_id
        experiment_id = run.info.experiment_id
        client.log_batch(run_id, params=[Param(k, str(v)) for k, v in p.resolved.logged.items()],
                         synchronous=True)
        options = EnvOptions(docker_args=dict(p.config.get(DOCKER_ARGS) or {}),
                             build_image=bool(p.config.get(BUILD_IMAGE)),
                             docker_auth=p.config.get(DOCKER_AUTH),
                             git_commit=p.fetched.git_commit)
        try:
            activation = p.manager.prepare(p.project, options)
            if activation.run_tags:
                client.log_batch(run_id, tags=_tag_list(activation.run_tags), synchronous=True)
            argv, env = activation.process(
                command, child_environment(p.tracking_uri, run_id, experiment_id))
            print(f"=== Running command '{command}' in run with ID '{run_id}' ===",
                  file=sys.stderr, flush=True)
            process = subprocess.Popen(argv, cwd=p.project.directory, env=env,
                                       start_new_session=True)
        except BaseException as exc:
            client.set_terminated(run_id, "KILLED" if isinstance(exc, KeyboardInterrupt)
                                  else "FAILED")
            raise
        return LocalSubmittedRun(run_id, process, p.tracking_uri, on_exit=p.fetched.cleanup)

    def _tags(self, fetched, entry_point: str, env_name: str) -> dict[str, str]:
        from skiff.tracking import fluent

        tags = {k: v for k, v in fluent._context_tags().items()
                if not k.startswith("mlflow.source.git.")}
        tags.update({
            SOURCE_TYPE_TAG: "PROJECT",
            SOURCE_NAME_TAG: fetched.source_name,
            ENTRY_POINT_TAG: entry_point,
            ENV_TAG: env_name,
            BACKEND_TAG: self.name,
        })
        for key, value in ((GIT_COMMIT_TAG, fetched.git_commit),
                           (GIT_REPO_TAG, fetched.git_repo_url),
                           (GIT_BRANCH_TAG, fetched.git_branch)):
            if value:
                tags[key] = value
        active = fluent.active_run()
        if active is not None:
            tags[PARENT_TAG] = active.info.run_id
        return tags


def _tag_list(tags: dict):
    from skiff.entities import RunTag

    return [RunTag(k, str(v)) for k, v in tags.items()]


def _create_run(client, experiment_id, tags: dict, run_name: str | None):
    from skiff.tracking._names import generate_run_name

    run_name = run_name or tags.get(RUN_NAME_TAG) or generate_run_name()
    tags[RUN_NAME_TAG] = run_name
    return client.create_run(str(experiment_id), tags=tags, run_name=run_name)
