"""FileTrackingStore: the TrackingStore for plain paths and ``file:`` URIs.

The directory has MLflow's ``./mlruns`` layout (see the package README and
``_layout``), so MLflow and Skiff read and write the same folder.
"""

from __future__ import annotations

import os

from skiff.store.tracking import TrackingStore
from skiff.utils.uri import is_local_uri, path_to_local_file_uri, resolve_store_path
from skiff_stores_file import _files, _layout
from skiff_stores_file._experiments import ExperimentsMixin
from skiff_stores_file._inputs import InputsMixin
from skiff_stores_file._models import LoggedModelsMixin
from skiff_stores_file._runs import RunsMixin
from skiff_stores_file._search import SearchMixin

DEFAULT_ROOT = "./mlruns"


class FileTrackingStore(ExperimentsMixin, RunsMixin, SearchMixin, InputsMixin,
                        LoggedModelsMixin, TrackingStore):
    """Experiments, runs and logged models in a local directory."""

    def __init__(self, store_uri: str | None = None, artifact_uri: str | None = None):
        super().__init__(store_uri, artifact_uri)
        self.root = resolve_store_path(store_uri or DEFAULT_ROOT)
        self.root_directory = self.root  # MLflow's attribute name
        self.trash = os.path.join(self.root, _layout.TRASH)
        self.artifact_root_uri = (self._resolve_local_uri(artifact_uri) if artifact_uri
                                  else path_to_local_file_uri(self.root))
        self._cache = _files.StatCache()
        self._run_dirs: dict[str, str] = {}
        self._model_dirs: dict[str, str] = {}
        self._ensure_root()

    @staticmethod
    def _resolve_local_uri(uri: str) -> str:
        """Plain paths become absolute ``file://`` URIs; other URIs are kept."""
        if is_local_uri(uri) and not uri.startswith("file:"):
            return path_to_local_file_uri(uri)
        return uri

    def _ensure_root(self) -> None:
        os.makedirs(self.trash, exist_ok=True)
        default = _layout.DEFAULT_EXPERIMENT_ID
        if self._experiment_dir(default) is None:
            self._write_experiment(default, "Default", None, None)

    def __repr__(self) -> str:
        return f"FileTrackingStore({self.root!r})"
