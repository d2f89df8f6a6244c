"""``--expose-prometheus``: request counts and latencies per endpoint at ``/metrics`` in
Prometheus' text format. Counters are per worker process (a scrape sees the worker that
answers); the directory option is accepted for MLflow compatibility."""

from __future__ import annotations

import threading
import time

from flask import Flask, Response, g, request


def install_prometheus(app: Flask, prefix: str = "") -> None:
    lock = threading.Lock()
    counts: dict[tuple[str, str, int], int] = {}
    seconds: dict[tuple[str, str], float] = {}

    @app.before_request
    def _start():
        g._skiff_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = getattr(g, "_skiff_started", None)
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        key = (request.method, rule)
        with lock:
            counts[(*key, response.status_code)] = counts.get((*key, response.status_code),
                                                              0) + 1
            if started is not None:
                seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - started
        return response

    def metrics():
        lines = ["# HELP skiff_http_requests_total Requests answered, by method, route and "
                 "status.", "# TYPE skiff_http_requests_total counter"]
        with lock:
            for (method, rule, status), n in sorted(counts.items()):
                lines.append(f'skiff_http_requests_total{{method="{method}",path="{rule}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP skiff_http_request_seconds_total Time spent answering, by "
                      "method and route.", "# TYPE skiff_http_request_seconds_total counter"]
            for (method, rule), total in sorted(seconds.items()):
                lines.append(f'skiff_http_request_seconds_total{{method="{method}",'
                             f'path="{rule}"}} {total:.6f}')
        return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")

    app.add_url_rule(f"{prefix}/metrics", "prometheus_metrics", metrics, methods=["GET"])
