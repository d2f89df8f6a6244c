"""Skiff's tracking server (Flask): MLflow's REST API, the artifact proxy, health and version.

``create_app(config)`` builds an app; nothing is created at import time, and Flask itself is
imported only when an app is built.
"""

from __future__ import annotations


def create_app(config=None):
    """Build the Flask app for a :class:`skiff_server.config.ServerConfig` (or a dict of its
    fields, or None for the defaults)."""
    from skiff_server.app import create_app as _create_app

    return _create_app(config)


__all__ = ["create_app"]
