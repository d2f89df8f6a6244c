"""The tracking-store contract suite.

A store plugin's tests subclass :class:`TrackingStoreContract` and provide a ``store``
fixture returning a fresh, empty store (only the Default experiment "0")::

    class TestMyStore(TrackingStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(...)

The tests use only the :class:`skiff.store.tracking.TrackingStore` API, so the same suite
runs against every store. Set ``supports_logged_models = False`` on a subclass whose store
does not implement the MLflow 3.x logged-model methods.
"""

from __future__ import annotations

from skiff.testing.contracts._tracking_base import PARENT_RUN_TAG, RUN_NAME_TAG, raises_code
from skiff.testing.contracts._tracking_experiments import ExperimentContract
from skiff.testing.contracts._tracking_runs import RunContract
from skiff.testing.contracts._tracking_search import SearchContract

__all__ = ["PARENT_RUN_TAG", "RUN_NAME_TAG", "TrackingStoreContract", "raises_code"]


class TrackingStoreContract(ExperimentContract, RunContract, SearchContract):
    """Tests every TrackingStore must pass. Subclasses provide the ``store`` fixture."""

    supports_logged_models = True
