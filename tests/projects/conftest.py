"""Project runs log to the file store; child processes inherit this environment."""

import pytest


@pytest.fixture(autouse=True)
def _file_store_only(_isolated_tracking, monkeypatch):
    # Only the file store plugin: the tests (and the projects they start) must not depend
    # on other distributions' state.
    monkeypatch.setenv("SKIFF_LOAD_PLUGINS", "stores-file")


@pytest.fixture
def env_root(monkeypatch):
    """Environments built by tests are content-addressed, so they are shared across runs."""
    from skiff.testing.venvs import cache_root

    root = cache_root().parent / "project-envs"
    monkeypatch.setenv("SKIFF_ENV_ROOT", str(root))
    return root
