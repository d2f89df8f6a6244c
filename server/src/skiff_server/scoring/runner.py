"""Runs the scoring app: gunicorn in this process (one interpreter start) with ``workers``
forked processes; Flask's threaded server where gunicorn cannot run (Windows).

The model is loaded here, before gunicorn starts, so a model that cannot load is one error
line and exit code 1, and each forked worker starts with the model in memory (shared
copy-on-write, nothing to deserialize again). Flavors that start devices or thread pools
while loading (PyTorch, TensorFlow), which do not survive a fork, are loaded by each worker
instead, after the fork."""

from __future__ import annotations

import sys

# gthread keeps connections alive between requests; one request thread per worker, because
# scoring is CPU-bound: with more, the threads only contend for the GIL (measured: 800 req/s
# and p99 14 ms for 8 clients with one thread, 610 req/s and p99 25 ms with four).
# SKIFF_SCORING_SERVER_THREADS raises it for models that wait on I/O.
THREADS_PER_WORKER = 1
_LOAD_AFTER_FORK_FLAVORS = {"pytorch", "tensorflow", "keras", "onnx", "transformers"}


def loads_after_fork(model_path: str, workers: int) -> bool:
    from skiff.models.model import Model

    return workers > 1 and bool(set(Model.load(model_path).flavors) & _LOAD_AFTER_FORK_FLAVORS)


def build_app(model_path: str, timeout: float | None):
    from skiff.pyfunc.loading import load_model
    from skiff_server.scoring.wsgi import build_wsgi

    return build_wsgi(load_model(model_path), timeout)


def serve(model_path: str, host: str = "127.0.0.1", port: int = 5000, workers: int = 1,
          timeout: float | None = 60, threads: int | None = None,
          gunicorn_opts: str | None = None) -> None:
    """Serve the model directory ``model_path`` until interrupted. Errors loading the model
    are raised here, before anything listens."""
    from skiff.env import get_env

    threads = threads or int(get_env("SCORING_SERVER_THREADS") or THREADS_PER_WORKER)
    if loads_after_fork(model_path, workers):
        # Check and import the flavor here; the model itself loads in each worker.
        from skiff.models.model import Model
        from skiff.pyfunc.loading import resolve_loader_module

        conf = Model.load(model_path).flavors.get("python_function") or {}
        resolve_loader_module(conf.get("loader_module", ""))
        app = None
    else:
        app = build_app(model_path, timeout)
    if sys.platform == "win32":
        from werkzeug.serving import run_simple

        run_simple(host, port, app or build_app(model_path, timeout), threaded=True)
        return
    _run_gunicorn(app, model_path, host, port, workers, timeout, threads, gunicorn_opts)


def _run_gunicorn(app, model_path, host, port, workers, timeout, threads,
                  gunicorn_opts) -> None:
    import shlex

    from gunicorn.app.base import BaseApplication

    from skiff_server.gunicorn_errors import use_json_error_pages

    use_json_error_pages()

    class _ScoringApplication(BaseApplication):
        def load_config(self):
            bind_host = f"[{host}]" if ":" in host else host
            settings = {
                "bind": f"{bind_host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                # The worker heartbeat; request time limits are the scoring timeout's job.
                "timeout": max(120, int((timeout or 0) * 2)),
                "keepalive": 30,
                "graceful_timeout": 10,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "info",
            }
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn 27+: one shared default socket path would clash between servers.
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)
            if gunicorn_opts:
                args = self.cfg.parser().parse_args(shlex.split(gunicorn_opts))
                for key, value in vars(args).items():
                    if value is not None and key in self.cfg.settings and key != "args":
                        self.cfg.set(key.lower(), value)

        def load(self):
            # Called in each worker: the app built before the fork, or a fresh one.
            return app if app is not None else build_app(model_path, timeout)

    _ScoringApplication().run()
