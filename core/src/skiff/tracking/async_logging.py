"""Asynchronous logging: ``synchronous=False`` (or SKIFF_ENABLE_ASYNC_LOGGING=true) queues
metrics, params and tags, and one background thread sends them as batches.

``flush_async_logging()``, ``end_run()`` and interpreter exit wait until every queued
record is stored. Params keep their immutability: they go out in the same batches, so a
conflicting value still fails (the error is raised by the next flush).
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading

_logger = logging.getLogger(__name__)


class RunOperations:
    """Returned by an asynchronous log call; ``wait()`` blocks until it is stored."""

    def __init__(self):
        self._done = threading.Event()
        self._error: BaseException | None = None

    def _finish(self, error: BaseException | None = None):
        self._error = error
        self._done.set()

    def wait(self):
        self._done.wait()
        if self._error is not None:
            raise self._error


class AsyncLoggingQueue:
    def __init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._errors: list[BaseException] = []

    def enqueue(self, store, run_id, metrics=(), params=(), tags=()) -> RunOperations:
        ops = RunOperations()
        self._ensure_thread()
        self._queue.put((store, run_id, list(metrics), list(params), list(tags), ops))
        return ops

    def _ensure_thread(self):
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._worker, name="skiff-async-logging", daemon=True)
                    self._thread.start()

    def _worker(self):
        while True:
            first = self._queue.get()
            items = [first]
            # Gather whatever else is waiting, so records go out in large batches.
            while len(items) < 5000:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._send(items)
            for _ in items:
                self._queue.task_done()

    def _send(self, items):
        from skiff.tracking.client import split_batch

        groups: dict[tuple, list] = {}
        for item in items:
            store, run_id = item[0], item[1]
            groups.setdefault((id(store), run_id), []).append(item)
        for group in groups.values():
            store, run_id = group[0][0], group[0][1]
            metrics = [m for g in group for m in g[2]]
            params = [p for g in group for p in g[3]]
            tags = [t for g in group for t in g[4]]
            error = None
            try:
                for m_chunk, p_chunk, t_chunk in split_batch(metrics, params, tags):
                    store.log_batch(run_id, m_chunk, p_chunk, t_chunk)
            except BaseException as exc:  # surfaced at the next flush
                _logger.error("Asynchronous logging to run %s failed: %s", run_id, exc)
                error = exc
                self._errors.append(exc)
            for g in group:
                g[5]._finish(error)

    def flush(self, raise_errors: bool = True):
        """Block until everything queued so far is stored."""
        if self._thread is not None:
            self._queue.join()
        errors, self._errors = self._errors, []
        if errors and raise_errors:
            raise errors[0]


_queue_instance: AsyncLoggingQueue | None = None
_instance_lock = threading.Lock()


def get_async_queue() -> AsyncLoggingQueue:
    global _queue_instance
    if _queue_instance is None:
        with _instance_lock:
            if _queue_instance is None:
                _queue_instance = AsyncLoggingQueue()
                atexit.register(_queue_instance.flush, False)
    return _queue_instance


def flush_async_logging() -> None:
    if _queue_instance is not None:
        _queue_instance.flush()
