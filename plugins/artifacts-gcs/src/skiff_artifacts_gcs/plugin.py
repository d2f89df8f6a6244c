"""Registers the gs:// artifact repository; google-cloud-storage is imported only when one is
built."""

from skiff.plugins import hookimpl


def _gcs_repository(artifact_uri, tracking_uri=None, registry_uri=None):
    from skiff_artifacts_gcs.repository import GCSArtifactRepository

    return GCSArtifactRepository(artifact_uri, tracking_uri, registry_uri)


@hookimpl
def register_artifact_repositories(register):
    register("gs", _gcs_repository)
