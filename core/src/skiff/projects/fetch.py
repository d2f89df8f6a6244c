"""Project URIs: local directories, Git repositories (https, ssh, ``file://``), zip files,
each with an optional ``#subdirectory``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

import attrs

from skiff.errors import SkiffException

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")  # git@github.com:org/repo
_REMOTE_SCHEMES = ("https", "http", "ssh", "git", "git+ssh", "git+https")


@attrs.define
class FetchedProject:
    directory: str  # where the entry point runs (the subdirectory, if one was given)
    source_name: str  # the mlflow.source.name tag
    git_commit: str | None = None
    git_repo_url: str | None = None
    git_branch: str | None = None
    scratch: str | None = None  # a checkout or extracted archive to delete after the run

    def cleanup(self) -> None:
        if self.scratch:
            import shutil

            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def _invalid(message: str) -> SkiffException:
    return SkiffException.invalid_parameter_value(" ".join(message.split()))


def split_subdirectory(uri: str) -> tuple[str, str]:
    """'repo#sub/dir' -> ('repo', 'sub/dir'); the subdirectory must stay inside."""
    base, _, sub = uri.partition("#")
    sub = sub.strip("/")
    if sub and (os.path.isabs(sub) or ".." in sub.replace("\\", "/").split("/")):
        raise _invalid(f"Project subdirectory {sub!r} must be a relative path inside the "
                       "project (no '..')")
    return base, sub


def is_git_remote(uri: str) -> bool:
    scheme = urllib.parse.urlparse(uri).scheme
    return scheme in _REMOTE_SCHEMES or bool(_SCP_LIKE.match(uri))


def _is_git_dir(path: str) -> bool:
    """A work tree (has .git) or a bare repository."""
    return os.path.exists(os.path.join(path, ".git")) or (
        os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects")))


def fetch_project(uri: str, version: str | None = None) -> FetchedProject:
    """Make the project at ``uri`` available locally and say where it came from."""
    base, sub = split_subdirectory(str(uri))
    parsed = urllib.parse.urlparse(base)
    if base.lower().endswith(".zip"):
        root, scratch = _fetch_zip(base)
        fetched = FetchedProject("", uri, scratch=scratch)
    elif is_git_remote(base):
        root, fetched = _clone(base, version, uri)
    elif parsed.scheme == "file" or (version is not None and parsed.scheme == ""):
        from skiff.utils.uri import local_path_from_uri

        local = os.path.abspath(local_path_from_uri(base))
        if not _is_git_dir(local):
            if version is not None:
                raise _invalid(f"--version {version!r} needs a Git repository, and {local} is "
                               "not one")
            root, fetched = local, FetchedProject("", local + (f"#{sub}" if sub else ""))
        else:
            git_url = "file://" + local if parsed.scheme == "" else base
            root, fetched = _clone(git_url, version, uri)
    elif parsed.scheme and len(parsed.scheme) > 1:
        raise _invalid(f"Unsupported project URI {uri!r}: use a local directory, a Git URI "
                       "(https://, ssh, git@host:path, file://) or a .zip file")
    else:
        root = os.path.abspath(base)
        fetched = FetchedProject("", os.path.join(root, sub) if sub else root)
        fetched.git_commit, fetched.git_repo_url = _local_git_info(root)
    if not os.path.isdir(root):
        raise _invalid(f"Project directory {root} does not exist")
    directory = os.path.join(root, sub) if sub else root
    if not os.path.isdir(directory):
        fetched.cleanup()
        where = f"subdirectory {sub!r} of {base!r}" if sub else repr(base)
        raise _invalid(f"Project {where} is not a directory")
    fetched.directory = directory
    return fetched


def _git(args: list[str], cwd: str | None = None, check: bool = True, timeout: float = 300):
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                                env=env, timeout=timeout)
    except FileNotFoundError:
        raise _invalid("git was not found on PATH; it is needed to fetch Git projects") from None
    except subprocess.TimeoutExpired:
        raise _invalid(f"git {args[0]} timed out after {timeout:.0f}s") from None
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, args, result.stdout,
                                            result.stderr)
    return result


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _clone(url: str, version: str | None, original_uri: str) -> tuple[str, FetchedProject]:
    """A shallow fetch of ``version`` (branch, tag or commit; default branch otherwise)."""
    listing = _git(["ls-remote", "--symref", url], check=False, timeout=120)
    if listing.returncode != 0:
        raise _invalid(f"Could not reach Git repository {url!r}: {_last_line(listing.stderr)}")
    heads, tags, default_branch = set(), set(), None
    for line in listing.stdout.splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            default_branch = line[5:].split("\t")[0].removeprefix("refs/heads/")
            continue
        ref = line.split("\t")[-1]
        if ref.startswith("refs/heads/"):
            heads.add(ref[len("refs/heads/"):])
        elif ref.startswith("refs/tags/"):
            tags.add(ref[len("refs/tags/"):].removesuffix("^{}"))
    work = tempfile.mkdtemp(prefix="skiff-project-")
    try:
        _git(["init", "-q", work])
        _git(["remote", "add", "origin", url], cwd=work)
        _checkout(work, version, heads, tags)
        branch = (default_branch if version is None
                  else version if version in heads else None)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise _invalid(f"Could not fetch version {version or 'HEAD'!r} of Git repository "
                       f"{url!r}: {_last_line(exc.stderr)}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    commit = _git(["rev-parse", "HEAD"], cwd=work).stdout.strip()
    return work, FetchedProject("", original_uri, commit, url, branch, scratch=work)


def _checkout(work: str, version: str | None, heads: set, tags: set) -> None:
    """Fetch one version shallowly (a short commit id needs the history) and check it out."""
    if version is None:
        _git(["fetch", "-q", "--depth", "1", "origin", "HEAD"], cwd=work)
        target = "FETCH_HEAD"
    elif version in heads or version in tags:
        kind = "heads" if version in heads else "tags"
        _git(["fetch", "-q", "--depth", "1", "origin", f"refs/{kind}/{version}"], cwd=work)
        target = "FETCH_HEAD"
    else:
        target = _fetch_commit(work, version)
    _git(["-c", "advice.detachedHead=false", "checkout", "-q", target], cwd=work)


def _fetch_commit(work: str, version: str) -> str:
    # A full commit id can be fetched shallowly; a short one needs the history.
    if re.fullmatch(r"[0-9a-fA-F]{40}", version):
        shallow = _git(["fetch", "-q", "--depth", "1", "origin", version], cwd=work, check=False)
        if shallow.returncode == 0:
            return "FETCH_HEAD"
    _git(["fetch", "-q", "origin"], cwd=work)
    found = _git(["rev-parse", "--verify", "--quiet", f"{version}^{{commit}}"], cwd=work,
                 check=False)
    if found.returncode != 0:
        raise subprocess.CalledProcessError(1, [], "", f"no branch, tag or commit {version!r}")
    return found.stdout.strip()


def _local_git_info(directory: str) -> tuple[str | None, str | None]:
    """Commit and origin URL of the Git work tree holding ``directory``, if any."""
    probe = directory
    while not os.path.exists(os.path.join(probe, ".git")):
        parent = os.path.dirname(probe)
        if parent == probe:
            return None, None
        probe = parent
    try:
        result = _git(["rev-parse", "HEAD"], cwd=directory, check=False, timeout=30)
        commit = result.stdout.strip() if result.returncode == 0 else None
        remote = _git(["config", "--get", "remote.origin.url"], cwd=directory, check=False,
                      timeout=30)
    except SkiffException:  # git missing: the tags are optional
        return None, None
    return commit, (remote.stdout.strip() or None)


def _fetch_zip(uri: str) -> tuple[str, str]:
    """(project root, temporary directory holding it)."""
    import zipfile

    work = tempfile.mkdtemp(prefix="skiff-project-")
    if urllib.parse.urlparse(uri).scheme in ("http", "https"):
        import requests

        archive = os.path.join(work, "project.zip")
        try:
            with requests.get(uri, stream=True, timeout=120) as response:
                response.raise_for_status()
                with open(archive, "wb") as f:
                    shutil.copyfileobj(response.raw, f)
        except requests.RequestException as exc:
            raise _invalid(f"Could not download project archive {uri!r}: {exc}") from None
    else:
        from skiff.utils.uri import local_path_from_uri

        archive = os.path.abspath(local_path_from_uri(uri))
        if not os.path.isfile(archive):
            raise _invalid(f"Project archive {archive} does not exist")
    root = os.path.join(work, "project")
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            target = os.path.realpath(os.path.join(root, member))
            if not target.startswith(os.path.realpath(root) + os.sep) and target != root:
                shutil.rmtree(work, ignore_errors=True)
                raise _invalid(f"Project archive {uri!r} has an entry outside the archive: "
                               f"{member!r}")
        zf.extractall(root)
    entries = os.listdir(root)
    # An archive holding one top-level folder is the project itself (GitHub's zips).
    if len(entries) == 1 and os.path.isdir(os.path.join(root, entries[0])):
        return os.path.join(root, entries[0]), work
    return root, work
