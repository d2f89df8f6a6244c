"""Artifact repositories: the contract, the built-in ``file:`` repository, and resolution
of artifact URIs (including ``runs:/``) to a repository. ``skiff.artifacts.download_artifacts``
etc. mirror ``mlflow.artifacts``."""


def __getattr__(name):
    if name in ("download_artifacts", "list_artifacts", "load_text", "load_dict"):
        from skiff.artifacts import download

        return getattr(download, name)
    raise AttributeError(name)
