"""Registers the file tracking store for plain paths and ``file:`` URIs."""

from skiff.plugins import hookimpl


def _file_store(store_uri, artifact_uri=None):
    from skiff_stores_file.store import FileTrackingStore

    return FileTrackingStore(store_uri, artifact_uri)


@hookimpl
def register_tracking_stores(register):
    register("", _file_store)
    register("file", _file_store)
