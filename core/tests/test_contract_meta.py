"""The tracking-store contract suite exercises every method of the TrackingStore ABC."""

import inspect

from skiff.store.tracking import TrackingStore
from skiff.testing.contracts import (
    _tracking_experiments,
    _tracking_runs,
    _tracking_search,
)
from skiff.testing.contracts import tracking as contract


def test_contract_covers_every_store_method():
    source = "".join(inspect.getsource(m) for m in (
        _tracking_experiments, _tracking_runs, _tracking_search))
    methods = [
        name for name, member in inspect.getmembers(TrackingStore, inspect.isfunction)
        if not name.startswith("__")
    ]
    missing = [name for name in methods if f".{name}(" not in source]
    assert missing == []


def test_contract_is_a_collectable_test_class():
    tests = [n for n in dir(contract.TrackingStoreContract) if n.startswith("test_")]
    assert len(tests) > 50
    assert not contract.TrackingStoreContract.__name__.startswith("Test")
