"""The scoring server's Flask app: MLflow's ``/ping``, ``/health``, ``/version`` and
``/invocations`` over one loaded model."""

from __future__ import annotations

from flask import Flask, Response, request

from skiff.version import VERSION

JSON_MIME = "application/json"


def create_app(model, timeout: float | None = None, load_error: str | None = None,
               invoker=None) -> Flask:
    """``model`` is a loaded :class:`skiff.pyfunc.PyFuncModel`; with ``model=None`` the app
    answers ``/ping`` with 404 (the model failed to load: ``load_error`` says why) and
    ``/invocations`` with 503, as a container orchestrator expects."""
    from skiff_server.scoring.invocations import Invoker

    app = Flask("skiff_server.scoring")
    if invoker is None and model is not None:
        invoker = Invoker(model, timeout)

    def ping():
        if invoker is None:
            return Response(load_error or "The model is not loaded\n", status=404,
                            mimetype=JSON_MIME)
        return Response("\n", status=200, mimetype=JSON_MIME)

    app.add_url_rule("/ping", "ping", ping, methods=["GET"])
    app.add_url_rule("/health", "health", ping, methods=["GET"])

    @app.get("/version")
    def version():
        return Response(VERSION, status=200, mimetype="text/plain")

    @app.post("/invocations")
    def invocations():
        if invoker is None:
            from skiff.errors import SkiffException

            exc = SkiffException(load_error or "The model is not loaded",
                                 "TEMPORARILY_UNAVAILABLE")
            return Response(exc.serialize_as_json(), status=503, mimetype=JSON_MIME)
        status, body = invoker.invoke(request.get_data(cache=False),
                                      request.headers.get("Content-Type"))
        return Response(body, status=status, mimetype=JSON_MIME)

    @app.errorhandler(404)
    def not_found(_error):
        from skiff.errors import SkiffException

        exc = SkiffException(f"No route {request.path}; the scoring server answers /ping, "
                             "/health, /version and POST /invocations", "ENDPOINT_NOT_FOUND")
        return Response(exc.serialize_as_json(), status=404, mimetype=JSON_MIME)

    @app.errorhandler(405)
    def not_allowed(_error):
        from skiff.errors import SkiffException

        exc = SkiffException(f"Method {request.method} is not allowed on {request.path}",
                             "BAD_REQUEST")
        return Response(exc.serialize_as_json(), status=405, mimetype=JSON_MIME)

    if invoker is not None:
        from skiff_server.scoring.wsgi import HotRoutes

        app.wsgi_app = HotRoutes(invoker, app.wsgi_app)
    return app
