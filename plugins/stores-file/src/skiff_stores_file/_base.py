"""Locating experiments and runs on disk, and reading their metadata through the cache."""

from __future__ import annotations

import logging
import os
import time

from skiff.entities import LifecycleStage, RunInfo
from skiff.errors import SkiffException
from skiff.validation import validate_experiment_id, validate_run_id
from skiff_stores_file import _files, _layout
from skiff_stores_file._files import META, CorruptFileError

_log = logging.getLogger("skiff_stores_file")
_warned: set = set()


def warn_once(message: str, path: str, *args) -> None:
    """Report an unreadable file once per process (listings read it again and again)."""
    key = (message, path)
    if key in _warned:
        return
    if len(_warned) > 10_000:
        _warned.clear()
    _warned.add(key)
    _log.warning(message, path, *args)


def not_found(message: str) -> SkiffException:
    return SkiffException(message, "RESOURCE_DOES_NOT_EXIST")


def invalid(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(message)


def _parse_meta(text: str, path: str) -> dict:
    return _files.load_yaml(text, path)


def _parse_raw(text: str, path: str) -> str:
    return text


class StoreBase:
    root: str
    trash: str
    _cache: _files.StatCache
    _run_dirs: dict[str, str]

    # -- cached reads ------------------------------------------------------------------
    def _read_meta(self, directory: str, stat_result=None) -> dict:
        """The meta.yaml of ``directory``; FileNotFoundError or CorruptFileError."""
        path = directory + os.sep + META
        for attempt in range(3):
            try:
                return self._cache.get(path, _parse_meta, stat_result)
            except CorruptFileError:
                # Older MLflow versions rewrite meta.yaml in place: a reader can catch it
                # empty for a moment. Only an empty file is worth waiting for.
                if attempt == 2 or os.path.getsize(path) != 0:
                    raise
                stat_result = None
                time.sleep(0.02)
        raise AssertionError("unreachable")

    def _read_raw(self, path: str, stat_result=None) -> str:
        return self._cache.get(path, _parse_raw, stat_result)

    def _read_key_files(self, directory: str) -> dict[str, str]:
        """{key: value} of a params/ or tags/ folder (keys with '/' are sub-folders)."""
        out = {}
        for key, path in _files.list_files(directory):
            try:
                out[key] = self._read_raw(path)
            except FileNotFoundError:  # deleted meanwhile
                continue
        return out

    # -- experiments -----------------------------------------------------------------------
    def _experiment_dir(self, experiment_id) -> str | None:
        """The folder of an experiment, active or in .trash; None when unknown."""
        experiment_id = str(experiment_id)
        validate_experiment_id(experiment_id)
        for parent in (self.root, self.trash):
            directory = os.path.join(parent, experiment_id)
            if os.path.isfile(os.path.join(directory, META)):
                return directory
        return None

    def _require_experiment_dir(self, experiment_id) -> str:
        directory = self._experiment_dir(experiment_id)
        if directory is None:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return directory

    def _experiment_dirs(self) -> list[tuple[str, str]]:
        """(experiment_id, folder) of every experiment, active ones first."""
        out = []
        for parent in (self.root, self.trash):
            for entry in _files.list_dirs(parent):
                if not entry.name.startswith("."):  # .trash, temporary folders
                    out.append((entry.name, entry.path))
        return out

    def _experiment_or_none(self, directory: str, name: str | None = None):
        """The experiment in a folder (only if called ``name`` when given), or None (with
        a warning) when its meta.yaml is corrupt; a folder without meta.yaml is not an
        experiment and is skipped quietly."""
        try:
            meta = self._read_meta(directory)
            if name is not None and meta.get("name") != name:
                return None
            return self._load_experiment(directory, meta)
        except FileNotFoundError:
            return None
        except (CorruptFileError, KeyError, TypeError, ValueError) as exc:
            warn_once("Skipping experiment folder %s: unreadable meta.yaml (%s)",
                      directory, exc)
            return None

    def _load_experiment(self, directory: str, meta: dict | None = None):
        if meta is None:
            meta = self._read_meta(directory)
        tags = self._read_key_files(os.path.join(directory, _layout.TAGS))
        experiment = _layout.experiment_from_meta(meta, tags)
        if os.path.dirname(directory) == self.trash:
            experiment.lifecycle_stage = LifecycleStage.DELETED
        return experiment

    # -- runs --------------------------------------------------------------------------
    def _find_run_dir(self, run_id: str) -> str | None:
        for _, exp_dir in self._experiment_dirs():
            candidate = os.path.join(exp_dir, run_id)
            if os.path.isfile(os.path.join(candidate, META)):
                return candidate
        return None

    def _run_dir(self, run_id) -> str:
        validate_run_id(run_id)
        cached = self._run_dirs.get(run_id)
        if cached is not None:
            return cached
        found = self._find_run_dir(run_id)
        if found is None:
            raise not_found(f"Run with id={run_id} not found")
        self._run_dirs[run_id] = found
        return found

    def _run_meta(self, run_id) -> tuple[str, dict]:
        """(run folder, meta dict), following a run whose experiment moved to .trash."""
        run_dir = self._run_dir(run_id)
        try:
            return run_dir, self._read_meta(run_dir)
        except FileNotFoundError:
            self._run_dirs.pop(run_id, None)
            run_dir = self._run_dir(run_id)
            return run_dir, self._read_meta(run_dir)
        except CorruptFileError as exc:
            raise SkiffException(f"Run '{run_id}' metadata is in invalid state: {exc}",
                                 "INVALID_STATE") from None

    def _run_info(self, run_dir: str, meta: dict) -> RunInfo:
        info = _layout.run_info_from_meta(meta)
        if os.path.basename(os.path.dirname(os.path.dirname(run_dir))) == _layout.TRASH:
            # Runs of a deleted experiment count as deleted even when an older tool did
            # not mark them.
            info.lifecycle_stage = LifecycleStage.DELETED
        if not info.run_name:
            try:
                info.run_name = self._read_raw(
                    os.path.join(run_dir, _layout.TAGS, _layout.RUN_NAME_TAG))
            except FileNotFoundError:
                pass
        return info

    def _active_run(self, run_id) -> tuple[str, dict]:
        run_dir, meta = self._run_meta(run_id)
        stage = meta.get("lifecycle_stage") or LifecycleStage.ACTIVE
        if stage != LifecycleStage.ACTIVE or self._in_trash(run_dir):
            raise invalid(f"The run {run_id} must be in the 'active' state. "
                          f"Current state is {LifecycleStage.DELETED}.")
        return run_dir, meta

    def _in_trash(self, run_dir: str) -> bool:
        return os.path.basename(os.path.dirname(os.path.dirname(run_dir))) == _layout.TRASH

    def _write_meta(self, directory: str, meta: dict) -> None:
        _files.atomic_write(os.path.join(directory, META), _files.dump_yaml(meta))

    def _update_run_meta(self, run_dir: str, change) -> dict:
        """Read-modify-write of a run's meta.yaml under the run folder's lock."""
        with _files.locked(run_dir):
            meta = dict(_files.read_yaml(os.path.join(run_dir, META)))
            change(meta)
            self._write_meta(run_dir, meta)
        return meta
