"""Hooks that the tracking server calls on plugins (project name ``skiff``, like core's).

A plugin implements them with ``@skiff.hookimpl`` in its ``plugin.py``; the server adds these
specs to the plugin manager the first time it builds an app.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("skiff")


@hookspec
def register_blueprints(register):
    """Mount Flask blueprints on the tracking server.

    Called once per app built by ``create_app``, after the tracking routes are in place.
    Call ``register(blueprint, url_prefix=None, api=False)`` for each blueprint:
    ``url_prefix`` is joined after the server's ``--static-prefix``; with ``api=True`` the
    blueprint is mounted twice, under ``/api/2.0/mlflow`` and ``/ajax-api/2.0/mlflow`` (how
    the model registry's routes are added). A blueprint that serves ``/`` replaces the
    placeholder front page. Import heavy modules inside the view functions. Returns nothing.
    """
