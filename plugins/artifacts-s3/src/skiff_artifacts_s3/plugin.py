"""Registers the s3:// artifact repository; boto3 is imported only when one is built."""

from skiff.plugins import hookimpl


def _s3_repository(artifact_uri, tracking_uri=None, registry_uri=None):
    from skiff_artifacts_s3.repository import S3ArtifactRepository

    return S3ArtifactRepository(artifact_uri, tracking_uri, registry_uri)


@hookimpl
def register_artifact_repositories(register):
    register("s3", _s3_repository)
