"""Every hook a Skiff plugin can implement. This module is the reference.

A plugin is a module (or object) with functions decorated by ``@skiff.hookimpl`` whose
names match the specs below; it is found through the entry-point group ``skiff``:

    [project.entry-points.skiff]
    stores-sql = "skiff_stores_sql.plugin"

An implementation may accept fewer arguments than its spec (pluggy's opt-in arguments),
so specs can grow without breaking plugins.

``register_*`` hooks are called once, the first time the registries are needed (never at
``import skiff``). Their ``register`` callback takes a key and a factory; the same key from
two plugins is an error naming both (:class:`skiff.errors.PluginConflictError`).
Factories are called only when a capability is used, so a plugin imports its heavy
dependencies inside them.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("skiff")


# -- plugins that host other plugins ------------------------------------------------------
@hookspec(historic=True)
def add_hookspecs(pluginmanager):
    """Add hook specifications that a plugin defines for other plugins.

    Called once while the plugin manager is built, after every plugin is registered and
    before implementations are validated, with the ``pluggy.PluginManager``; call
    ``pluginmanager.add_hookspecs(module)``. The server adds ``register_blueprints`` this
    way, so the UI plugin can implement it whatever the loading order. Historic: replayed
    to plugins registered later. Returns nothing.
    """


# -- stores and artifacts ----------------------------------------------------------------
@hookspec
def register_tracking_stores(register):
    """Register tracking-store factories by URI scheme.

    Called once when the first tracking store is resolved. Call
    ``register(scheme, factory)`` for each scheme; ``factory(store_uri, artifact_uri)``
    returns a :class:`skiff.store.tracking.TrackingStore`. The scheme ``""`` means a
    plain filesystem path. Returns nothing.
    """


@hookspec
def register_registry_stores(register):
    """Register model-registry-store factories by URI scheme.

    Called once when the first registry store is resolved. ``register(scheme, factory)``
    where ``factory(store_uri, tracking_uri)`` returns a registry store. Returns nothing.
    """


@hookspec
def register_artifact_repositories(register):
    """Register artifact-repository factories by URI scheme.

    Called once when the first artifact URI is resolved. ``register(scheme, factory)``
    where ``factory(artifact_uri, tracking_uri=None, registry_uri=None)`` returns a
    :class:`skiff.artifacts.base.ArtifactRepository`. Returns nothing.
    """


# -- models, projects, deployments -------------------------------------------------------
@hookspec
def register_flavors(register):
    """Register model flavors by name.

    Called once when ``skiff.<flavor>`` or a model load first needs the flavor table.
    ``register(name, module_path)`` where ``module_path`` is the importable module that
    implements the flavor (``save_model``, ``log_model``, ``load_model`` and, for pyfunc
    support, ``_load_pyfunc``). ``skiff.sklearn`` resolves through this. Returns nothing.
    """


@hookspec
def register_project_backends(register):
    """Register backends for ``skiff run -b NAME``.

    Called once when a project is first run or backends are listed. ``register(name, factory)`` where ``factory()`` returns an object with
    ``run(project_uri, entry_point, params, version, backend_config, tracking_uri,
    experiment_id)`` returning a submitted run. Returns nothing.
    """


@hookspec
def register_env_managers(register):
    """Register environment managers (local, virtualenv, uv, conda, docker).

    Called once when a project or a model server first needs an environment. ``register(name, factory)`` where ``factory()`` returns an environment manager.
    Returns nothing.
    """


@hookspec
def register_deployment_targets(register):
    """Register deployment targets for ``skiff deployments -t NAME``.

    Called once when a deployment client is first requested or targets are listed.
    ``register(name, module_path)`` where the module provides a deployment client class,
    ``run_local`` and ``target_help`` (MLflow's deployment plugin shape). Returns nothing.
    """


# -- CLI ----------------------------------------------------------------------------------
@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``skiff`` CLI.

    Called once when the CLI starts, with the top-level click group; call
    ``cli.add_command(...)``. Import heavy modules inside the commands, not here.
    Returns nothing.
    """


# -- runs and requests ----------------------------------------------------------------------
@hookspec
def run_context_tags():
    """Return a dict of tags for a newly started run (user, source, git commit...).

    Called by ``start_run``/``create_run`` in the client for every new run. All results are
    merged in registration order, later plugins overriding earlier ones (built-ins run
    first), then the caller's own tags override them all. Return None to add nothing.
    """


@hookspec
def request_headers(uri):
    """Return a dict of extra HTTP headers for REST calls to the tracking server at ``uri``.

    Called when a REST store is created. All results are merged; a header returned by
    several plugins has its values joined by a space (as MLflow does). Return None to add
    nothing.
    """


@hookspec(firstresult=True)
def default_tracking_uri():
    """Return the tracking URI to use when none is set, or None.

    Called when neither ``set_tracking_uri`` nor SKIFF_/MLFLOW_TRACKING_URI is set. Stops
    at the first non-None result; the built-in answer (``./mlruns``) comes last.
    """
