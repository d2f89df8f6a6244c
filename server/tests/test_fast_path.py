"""runs/log-metric answered below Flask (skiff_server.fast_path): the same results, errors
and security checks as the Flask route, which handles everything the fast path declines."""

from __future__ import annotations

import json

from conftest import Api

from skiff_server.fast_path import FastLogMetric

PATH = "/api/2.0/mlflow/runs/log-metric"


def _post(client, body, **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    kw.setdefault("content_type", "application/json")
    return client.post(PATH, data=data, **kw)


def test_installed_and_logs_points(app, client):
    assert isinstance(app.wsgi_app, FastLogMetric)
    api = Api(client)
    rid = api.run()
    for step in range(3):
        r = _post(client, {"run_id": rid, "key": "loss", "value": 1.0 / (step + 1),
                           "timestamp": 10 + step, "step": step})
        assert r.status_code == 200 and r.get_json() == {}
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    history = api.get("/metrics/get-history", {"run_id": rid, "metric_key": "loss"})
    assert [m["step"] for m in history["metrics"]] == [0, 1, 2]
    assert api.get("/runs/get", {"run_id": rid})["run"]["data"]["metrics"][0]["value"] == 1 / 3


def test_declined_requests_get_the_flask_route_answers(client):
    api = Api(client)
    rid = api.run()
    cases = [
        ({"run_id": "0" * 32, "key": "m", "value": 1, "timestamp": 1}, 404,
         "RESOURCE_DOES_NOT_EXIST"),
        ({"run_id": rid, "key": "m", "value": True, "timestamp": 1}, 400,
         "INVALID_PARAMETER_VALUE"),
        ({"run_id": rid, "key": "../m", "value": 1, "timestamp": 1}, 400,
         "INVALID_PARAMETER_VALUE"),
        ({"run_id": rid, "key": "m", "value": 1, "timestamp": -5}, 400,
         "INVALID_PARAMETER_VALUE"),
        ({"run_id": rid, "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE"),
        ("{not json", 400, "INVALID_PARAMETER_VALUE"),
    ]
    for body, status, code in cases:
        r = _post(client, body)
        assert r.status_code == status, (body, r.get_data(as_text=True))
        assert r.get_json()["error_code"] == code
    # camelCase, string values and a missing step still work (through Flask).
    assert _post(client, {"runId": rid, "key": "m", "value": "NaN", "timestamp": 3}
                 ).status_code == 200
    assert _post(client, {"run_id": rid, "key": "m", "value": 2, "timestamp": 4}
                 ).status_code == 200
    points = api.get("/metrics/get-history", {"run_id": rid, "metric_key": "m"})["metrics"]
    assert [p["value"] for p in points] == ["NaN", 2.0]


def test_deleted_run_refused(client):
    api = Api(client)
    rid = api.run()
    api.post("/runs/delete", {"run_id": rid})
    r = _post(client, {"run_id": rid, "key": "m", "value": 1, "timestamp": 1})
    assert r.status_code == 400 and r.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_security_checks_still_apply(client):
    rid = Api(client).run()
    body = {"run_id": rid, "key": "m", "value": 1, "timestamp": 1}
    r = _post(client, body, headers={"Host": "evil.example.com"})
    assert r.status_code == 403 and "--allowed-hosts" in r.get_json()["message"]
    r = _post(client, body, headers={"Origin": "https://evil.example.com"})
    assert r.status_code == 403 and "--cors-allowed-origins" in r.get_json()["message"]
    r = _post(client, body, content_type="text/plain")
    assert r.status_code == 400


def test_not_installed_when_a_plugin_hooks_every_request(make_app):
    from flask import Blueprint

    from skiff.plugins import get_plugin_manager, hookimpl

    seen = []
    bp = Blueprint("audit", __name__)
    bp.before_app_request(lambda: seen.append(1))

    class AuditPlugin:
        @hookimpl
        def register_blueprints(self, register):
            register(bp)

    manager = get_plugin_manager()
    manager.register(AuditPlugin(), "skiff-test-audit")
    try:
        app = make_app()
        assert not isinstance(app.wsgi_app, FastLogMetric)
        client = app.test_client()
        rid = Api(client).run()
        seen.clear()
        _post(client, {"run_id": rid, "key": "m", "value": 1, "timestamp": 1})
        assert seen == [1]
    finally:
        manager.pm.unregister(name="skiff-test-audit")


def test_not_installed_with_prometheus(make_app, tmp_path):
    app = make_app(expose_prometheus=str(tmp_path / "prom"))
    assert not isinstance(app.wsgi_app, FastLogMetric)


def test_an_unexpected_store_error_is_a_json_500_not_a_dropped_connection(app, client,
                                                                         monkeypatch):
    rid = Api(client).run()
    store = app.wsgi_app.store()

    def broken(run_id, metric):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "log_metric", broken)
    r = _post(client, {"run_id": rid, "key": "m", "value": 1.0, "timestamp": 1, "step": 0})
    assert r.status_code == 500
    assert r.get_json() == {"error_code": "INTERNAL_ERROR",
                            "message": "OSError: [Errno 28] No space left on device"}
    assert r.headers["Content-Length"] == str(len(r.get_data()))
