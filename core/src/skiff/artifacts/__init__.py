"""Artifact repositories: the contract, the built-in ``file:`` repository, and resolution
of artifact URIs (including ``runs:/``) to a repository."""
