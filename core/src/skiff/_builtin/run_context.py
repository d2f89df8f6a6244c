"""Built-in plugin: MLflow's default run tags (user, source name and type, git commit)."""

from __future__ import annotations

import getpass
import os
import sys

from skiff.plugins import hookimpl


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return "unknown"


def _source_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        return os.path.abspath(path)
    return sys.argv[0] if sys.argv and sys.argv[0] else "<console>"


def _git_info(path: str) -> dict[str, str]:
    """Commit, branch and remote of the repository containing ``path``, read from .git
    files directly (no git subprocess on the hot path)."""
    directory = os.path.dirname(os.path.abspath(path)) if os.path.isfile(path) else os.getcwd()
    while True:
        git_dir = os.path.join(directory, ".git")
        if os.path.isdir(git_dir):
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            return {}
        directory = parent
    tags: dict[str, str] = {}
    try:
        with open(os.path.join(git_dir, "HEAD")) as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            tags["mlflow.source.git.branch"] = ref.rsplit("refs/heads/", 1)[-1]
            ref_file = os.path.join(git_dir, ref)
            if os.path.exists(ref_file):
                with open(ref_file) as f:
                    tags["mlflow.source.git.commit"] = f.read().strip()
            else:
                packed = os.path.join(git_dir, "packed-refs")
                if os.path.exists(packed):
                    with open(packed) as f:
                        for line in f:
                            if line.strip().endswith(" " + ref):
                                tags["mlflow.source.git.commit"] = line.split()[0]
        else:
            tags["mlflow.source.git.commit"] = head
        config = os.path.join(git_dir, "config")
        if os.path.exists(config):
            with open(config) as f:
                in_origin = False
                for line in f:
                    stripped = line.strip()
                    if stripped.startswith("["):
                        in_origin = stripped == '[remote "origin"]'
                    elif in_origin and stripped.startswith("url"):
                        tags["mlflow.source.git.repoURL"] = stripped.split("=", 1)[1].strip()
    except OSError:
        return tags
    return tags


@hookimpl(tryfirst=True)
def run_context_tags():
    source = _source_name()
    tags = {
        "mlflow.user": _user(),
        "mlflow.source.name": source,
        "mlflow.source.type": "LOCAL",
    }
    tags.update(_git_info(source))
    from skiff.env import get_env

    extra = get_env("RUN_CONTEXT")
    if extra:
        import json

        try:
            tags.update({str(k): str(v) for k, v in json.loads(extra).items()})
        except (ValueError, AttributeError):
            pass
    return tags
