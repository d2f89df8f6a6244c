"""One blueprint per resource. Each is mounted under ``/api/2.0/mlflow`` and
``/ajax-api/2.0/mlflow`` by ``skiff_server.app`` (a ``registry`` blueprint for
registered-models/* and model-versions/* slots into ``_tracking_blueprints`` the same way)."""
