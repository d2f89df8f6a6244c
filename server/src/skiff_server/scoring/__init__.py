"""Skiff's model scoring server (MLflow's ``/ping``, ``/health``, ``/version`` and
``/invocations``), started by ``skiff models serve``. Flask, pandas and the model load on
first use, so importing this package is cheap."""

from __future__ import annotations


def create_app(model, timeout: float | None = None):
    from skiff_server.scoring.app import create_app as _create_app

    return _create_app(model, timeout)


def serve(model_path: str, **options) -> None:
    from skiff_server.scoring.runner import serve as _serve

    _serve(model_path, **options)
