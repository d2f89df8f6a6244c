import pytest


@pytest.fixture
def store(tmp_path):
    from skiff_stores_file.store import FileTrackingStore

    return FileTrackingStore(str(tmp_path / "mlruns"))
