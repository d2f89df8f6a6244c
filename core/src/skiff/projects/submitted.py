"""Submitted runs: what a project backend returns (MLflow's ``SubmittedRun`` shape)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading

EXIT_CODE_TAG = "skiff.project.exitCode"


class SubmittedRun:
    """A project run that was started by a backend. Subclasses implement all four."""

    @property
    def run_id(self) -> str:
        raise NotImplementedError

    def wait(self) -> bool:
        """Block until the run ends; True when it finished successfully."""
        raise NotImplementedError

    def get_status(self) -> str:
        """RUNNING, FINISHED, FAILED or KILLED."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop the run and mark it KILLED (no-op once it ended)."""
        raise NotImplementedError


class LocalSubmittedRun(SubmittedRun):
    """A child process on this machine. A watcher thread records the run's end (FINISHED,
    or FAILED with the exit code) even when nobody calls :meth:`wait`."""

    def __init__(self, run_id: str, process: subprocess.Popen, tracking_uri: str | None = None,
                 on_exit=None):
        self._run_id = run_id
        self.process = process
        self._tracking_uri = tracking_uri
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._status = "RUNNING"
        self._cancelled = False
        self._watcher = threading.Thread(target=self._watch, name=f"skiff-run-{run_id[:8]}",
                                         daemon=True)
        self._watcher.start()

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def command_proc(self) -> subprocess.Popen:  # MLflow's name for the process
        return self.process

    @property
    def exit_code(self) -> int | None:
        return self.process.returncode

    def _client(self):
        from skiff.tracking.client import Client

        return Client(tracking_uri=self._tracking_uri)

    def _watch(self) -> None:
        code = self.process.wait()
        with self._lock:
            if self._cancelled:
                return
            status = "FINISHED" if code == 0 else "FAILED"
            try:
                client = self._client()
                if code != 0:
                    client.set_tag(self._run_id, EXIT_CODE_TAG, str(code), synchronous=True)
                client.set_terminated(self._run_id, status)
            finally:
                self._status = status
                if self._on_exit is not None:
                    self._on_exit()

    def wait(self) -> bool:
        self._watcher.join()
        return self._status == "FINISHED"

    def get_status(self) -> str:
        return self._status

    def cancel(self) -> None:
        with self._lock:
            if self._status != "RUNNING":
                return
            self._cancelled = True
            _terminate(self.process)
            try:
                self._client().set_terminated(self._run_id, "KILLED")
            finally:
                self._status = "KILLED"
                if self._on_exit is not None:
                    self._on_exit()


def _terminate(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after ``grace``."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
