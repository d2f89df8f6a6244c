"""Registers the Azure artifact repositories; azure-storage-blob is imported only when one
is built."""

from skiff.plugins import hookimpl


def _azure_repository(artifact_uri, tracking_uri=None, registry_uri=None):
    from skiff_artifacts_azure.repository import AzureBlobArtifactRepository

    return AzureBlobArtifactRepository(artifact_uri, tracking_uri, registry_uri)


@hookimpl
def register_artifact_repositories(register):
    register("wasbs", _azure_repository)
    register("abfss", _azure_repository)
