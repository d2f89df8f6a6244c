"""Registers the file tracking store and the file model registry for plain paths and
``file:`` URIs."""

from skiff.plugins import hookimpl


def _file_store(store_uri, artifact_uri=None):
    from skiff_stores_file.store import FileTrackingStore

    return FileTrackingStore(store_uri, artifact_uri)


def _file_registry_store(store_uri, tracking_uri=None):
    from skiff_stores_file._registry import FileRegistryStore

    return FileRegistryStore(store_uri, tracking_uri)


@hookimpl
def register_tracking_stores(register):
    register("", _file_store)
    register("file", _file_store)


@hookimpl
def register_registry_stores(register):
    register("", _file_registry_store)
    register("file", _file_registry_store)
