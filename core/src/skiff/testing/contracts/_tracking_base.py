"""Shared helpers of the tracking-store contract (see ``tracking.py``)."""

from __future__ import annotations

import contextlib
import time
import uuid

import pytest

from skiff.errors import SkiffException

RUN_NAME_TAG = "mlflow.runName"
PARENT_RUN_TAG = "mlflow.parentRunId"


@contextlib.contextmanager
def raises_code(*codes: str):
    """Expect a SkiffException carrying one of ``codes``."""
    with pytest.raises(SkiffException) as info:
        yield info
    assert info.value.error_code in codes, f"{info.value.error_code}: {info.value.message}"


def now_ms() -> int:
    return int(time.time() * 1000)


def unique_name(prefix: str = "exp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class ContractBase:
    """Helpers every part of the contract uses; subclasses provide ``store``."""

    supports_logged_models = True

    # -- helpers ---------------------------------------------------------------------
    def make_experiment(self, store, name=None, **kwargs) -> str:
        return store.create_experiment(name or unique_name(), **kwargs)

    def make_run(self, store, experiment_id=None, run_name="r", start_time=None, tags=(),
                 user_id="alice"):
        experiment_id = experiment_id or self.make_experiment(store)
        return store.create_run(
            experiment_id, user_id, now_ms() if start_time is None else start_time,
            list(tags), run_name,
        )
