"""Built-in plugin: the REST client store for ``http(s)://`` tracking servers, and the
artifact repositories that talk to a server's artifact proxy."""

from skiff.plugins import hookimpl


def _rest_tracking_store(store_uri, artifact_uri=None):
    from skiff.store.rest import RestStore

    return RestStore(store_uri)


def _rest_registry_store(store_uri, tracking_uri=None):
    from skiff.store.rest_registry import RestRegistryStore

    return RestRegistryStore(store_uri)


def _proxied_artifacts(artifact_uri, tracking_uri=None, registry_uri=None):
    from skiff.artifacts.http import MlflowArtifactsRepository

    return MlflowArtifactsRepository(artifact_uri, tracking_uri, registry_uri)


def _http_artifacts(artifact_uri, tracking_uri=None, registry_uri=None):
    from skiff.artifacts.http import HttpArtifactRepository

    return HttpArtifactRepository(artifact_uri, tracking_uri, registry_uri)


@hookimpl(trylast=True)
def register_tracking_stores(register):
    register("http", _rest_tracking_store)
    register("https", _rest_tracking_store)


@hookimpl(trylast=True)
def register_registry_stores(register):
    register("http", _rest_registry_store)
    register("https", _rest_registry_store)


@hookimpl(trylast=True)
def register_artifact_repositories(register):
    register("mlflow-artifacts", _proxied_artifacts)
    register("http", _http_artifacts)
    register("https", _http_artifacts)
