"""The shared registry contract, run against the file registry."""

import pytest

from skiff.testing.contracts.registry import RegistryStoreContract


@pytest.fixture
def registry_store(tmp_path):
    from skiff_stores_file._registry import FileRegistryStore

    return FileRegistryStore(str(tmp_path / "mlruns"))


class TestFileRegistryContract(RegistryStoreContract):
    pass
