"""Built-in plugin: the ``file:`` artifact repository (and plain paths)."""

from skiff.plugins import hookimpl


def _local_repository(artifact_uri, tracking_uri=None, registry_uri=None):
    from skiff.artifacts.local import LocalArtifactRepository

    return LocalArtifactRepository(artifact_uri, tracking_uri, registry_uri)


@hookimpl(trylast=True)
def register_artifact_repositories(register):
    register("", _local_repository)
    register("file", _local_repository)
