"""The shared tracking-store contract, run against the file store."""

from skiff.testing.contracts.tracking import TrackingStoreContract


class TestFileStoreContract(TrackingStoreContract):
    pass
