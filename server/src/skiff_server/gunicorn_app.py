"""gunicorn run in this process (no second interpreter start), app built once and shared by
the forked workers (``preload``: nothing is created before serving, so forking is safe)."""

from __future__ import annotations

import shlex

from skiff_server.config import ServerConfig
from skiff_server.gunicorn_errors import use_json_error_pages


def run_gunicorn(config: ServerConfig, workers: int, threads: int, extra: str | None) -> None:
    from gunicorn.app.base import BaseApplication

    use_json_error_pages()

    class _SkiffApplication(BaseApplication):
        def load_config(self):
            host = f"[{config.host}]" if ":" in config.host else config.host
            settings = {
                "bind": f"{host}:{config.port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "preload_app": True,
                "timeout": 120,
                "keepalive": 30,
                "graceful_timeout": 10,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                # GET routes take repeated parameters: get-history-bulk-interval for 100
                # runs is a ~4.3 KB request line, past gunicorn's default 4094 (an HTML 414
                # before the app can answer). 8190 is the most gunicorn allows short of
                # no limit at all.
                "limit_request_line": 8190,
            }
            # gunicorn 27+ opens a control socket at one fixed path in $HOME; several
            # servers on one machine would fight over it, and nothing here uses it.
            if "control_socket_disable" in self.cfg.settings:
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)
            if extra:
                parser = self.cfg.parser()
                args = parser.parse_args(shlex.split(extra))
                for key, value in vars(args).items():
                    if value is not None and key in self.cfg.settings and key != "args":
                        self.cfg.set(key.lower(), value)

        def load(self):
            import gc

            from skiff_server.app import create_app

            app = create_app(config)
            # What exists now lives as long as the server: keep it out of the collector's
            # walks (and out of copy-on-write page faults in the forked workers).
            gc.freeze()
            return app

    _SkiffApplication().run()
