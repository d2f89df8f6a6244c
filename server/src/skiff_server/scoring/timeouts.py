"""Per-request time limits for ``/invocations`` (MLflow's
``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT``, answered with HTTP 504).

Requests run in gunicorn's worker threads, where signals cannot reach. One daemon thread
per worker watches the deadlines and raises :class:`RequestTimeout` inside a request's
thread once it is overdue; the cost on the request path is two dict updates under a lock.
The exception lands at the next Python bytecode, so a model stuck inside one long C call
is answered when that call returns.
"""

from __future__ import annotations

import ctypes
import threading
import time


class RequestTimeout(BaseException):
    """Raised inside an overdue request; a BaseException so ``except Exception`` in model
    code does not swallow it."""


def _raise_in_thread(thread_id: int, exc_type) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None)


class Watchdog:
    def __init__(self, timeout: float):
        self.timeout = float(timeout)
        self._tick = min(0.5, max(0.01, self.timeout / 20))
        self._lock = threading.Lock()
        self._deadlines: dict[int, list] = {}  # thread id -> [deadline, fired]
        self._thread: threading.Thread | None = None
        self._owner_pid = None

    def _ensure_thread(self) -> None:
        import os

        # Threads do not survive fork: each gunicorn worker starts its own.
        if self._owner_pid != os.getpid():
            self._owner_pid = os.getpid()
            self._thread = threading.Thread(target=self._watch, name="skiff-scoring-timeout",
                                            daemon=True)
            self._thread.start()

    def enter(self) -> int:
        if self._owner_pid is None or self._thread is None or not self._thread.is_alive():
            self._ensure_thread()
        thread_id = threading.get_ident()
        with self._lock:
            self._deadlines[thread_id] = [time.monotonic() + self.timeout, False]
        return thread_id

    def leave(self, thread_id: int) -> None:
        with self._lock:
            entry = self._deadlines.pop(thread_id, None)
            if entry is not None and entry[1]:
                # Fired but not delivered yet: withdraw it, the request is done.
                _raise_in_thread(thread_id, None)

    def _watch(self) -> None:
        while True:
            time.sleep(self._tick)
            now = time.monotonic()
            with self._lock:
                for thread_id, entry in self._deadlines.items():
                    if not entry[1] and entry[0] <= now:
                        entry[1] = True
                        _raise_in_thread(thread_id, RequestTimeout)
