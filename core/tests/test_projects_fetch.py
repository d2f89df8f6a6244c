"""Project URIs (local, Git over file://, zip, #subdirectory), environment tools that are
missing, and `skiff run` refusing bad input before anything runs (no tracking store)."""

import os
import subprocess
import zipfile

import pytest
from click.testing import CliRunner

from skiff.errors import SkiffException
from skiff.projects import envs
from skiff.projects._conda import CondaEnvManager
from skiff.projects._docker import DockerEnvManager, engine_problem
from skiff.projects.fetch import fetch_project, split_subdirectory
from skiff.projects.spec import load_project


@pytest.fixture(autouse=True)
def _no_entry_point_plugins(monkeypatch, tmp_path):
    """Core alone: these tests need no store, and another distribution's state must not
    matter. Checkouts go to the test's own temporary directory."""
    import tempfile

    monkeypatch.setenv("SKIFF_LOAD_PLUGINS", "")
    (tmp_path / "scratch").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """main: sub/MLproject + v1 tag; branch feature: one more commit."""
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "MLproject").write_text("entry_points:\n  main:\n    command: echo one\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    git(root, "tag", "v1")
    first = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-qb", "feature")
    (root / "sub" / "MLproject").write_text("entry_points:\n  main:\n    command: echo two\n")
    git(root, "commit", "-qam", "two")
    second = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "main")
    git(root, "remote", "add", "origin", "https://example.invalid/org/repo.git")
    return root, first, second


def command_of(fetched):
    return load_project(fetched.directory).entry_points["main"].command


def test_git_file_uri_default_branch_and_subdirectory(repo):
    root, first, _ = repo
    fetched = fetch_project(f"file://{root}#sub")
    assert command_of(fetched) == "echo one"
    assert fetched.git_commit == first and fetched.git_branch == "main"
    assert fetched.git_repo_url == f"file://{root}"
    assert fetched.source_name == f"file://{root}#sub"
    assert not fetched.directory.startswith(str(root))  # a fresh checkout, not the original
    scratch = fetched.scratch
    fetched.cleanup()
    assert not os.path.exists(scratch)


@pytest.mark.parametrize("version, expected, branch", [
    ("feature", "echo two", "feature"), ("v1", "echo one", None)])
def test_git_versions(repo, version, expected, branch):
    root, _, _ = repo
    fetched = fetch_project(f"file://{root}#sub", version)
    assert command_of(fetched) == expected and fetched.git_branch == branch


def test_git_commit_ids_full_and_short(repo):
    root, first, second = repo
    assert fetch_project(f"file://{root}#sub", second).git_commit == second
    assert command_of(fetch_project(f"file://{root}#sub", first[:8])) == "echo one"


def test_local_directory_runs_in_place_with_git_tags(repo):
    root, first, _ = repo
    fetched = fetch_project(str(root / "sub"))
    assert fetched.directory == str(root / "sub")
    assert fetched.git_commit == first
    assert fetched.git_repo_url == "https://example.invalid/org/repo.git"
    assert fetch_project(f"{root}#sub").directory == str(root / "sub")
    # --version on a local Git directory checks that version out elsewhere
    assert command_of(fetch_project(f"{root}#sub", "feature")) == "echo two"


def test_unreachable_and_unknown_git(repo, tmp_path):
    root, _, _ = repo
    with pytest.raises(SkiffException, match="does not exist"):
        fetch_project(f"file://{tmp_path}/missing.git")
    bare = tmp_path / "broken.git"
    (bare / "objects").mkdir(parents=True)
    (bare / "HEAD").write_text("garbage\n")
    with pytest.raises(SkiffException, match="Could not reach Git repository") as info:
        fetch_project(f"file://{bare}")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "\n" not in info.value.message
    with pytest.raises(SkiffException, match="Could not reach Git repository"):
        fetch_project("https://127.0.0.1:9/org/repo.git")
    with pytest.raises(SkiffException, match="no branch, tag or commit 'nope'"):
        fetch_project(f"file://{root}", "nope")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SkiffException, match="needs a Git repository"):
        fetch_project(str(plain), "main")


def test_subdirectories_stay_inside():
    assert split_subdirectory("https://h/r#a/b/") == ("https://h/r", "a/b")
    assert split_subdirectory("x#/a") == ("x", "a")
    for bad in ("x#../y", "x#a/../../b"):
        with pytest.raises(SkiffException, match="inside the project"):
            split_subdirectory(bad)


def test_missing_directory_and_unsupported_scheme(tmp_path):
    with pytest.raises(SkiffException, match="does not exist"):
        fetch_project(str(tmp_path / "nope"))
    with pytest.raises(SkiffException, match="Unsupported project URI"):
        fetch_project("ftp://host/project")


def test_zip_archive(tmp_path):
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("proj-main/MLproject", "entry_points:\n  main:\n    command: echo zip\n")
    assert command_of(fetch_project(str(archive))) == "echo zip"
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(SkiffException, match="outside the archive"):
        fetch_project(str(evil))


# -- environment tools ---------------------------------------------------------------------
@pytest.fixture
def docker_project(tmp_path):
    (tmp_path / "MLproject").write_text(
        "name: d\ndocker_env: {image: 'python:3.11-slim'}\n"
        "entry_points: {main: {command: 'python -V'}}\n")
    return load_project(str(tmp_path))


def test_docker_without_the_command_is_one_line(docker_project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SkiffException, match="No Docker engine answered") as info:
        DockerEnvManager().check(docker_project)
    assert "docker command is not on PATH" in info.value.message
    assert "\n" not in info.value.message


def test_docker_with_no_engine_answering_is_one_line(docker_project):
    problem = engine_problem()
    if problem is None:
        pytest.skip("a Docker engine answers on this machine")
    with pytest.raises(SkiffException) as info:
        DockerEnvManager().check(docker_project)
    assert info.value.message.startswith("No Docker engine answered")
    assert "\n" not in info.value.message


def test_docker_command_line(docker_project, monkeypatch, tmp_path):
    from skiff.projects.spec import DockerEnv

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no docker: only the argv is built
    monkeypatch.setenv("FROM_HOST", "h")
    docker_project.docker_env = DockerEnv("img:1", ["/data:/data"], ["FROM_HOST", ["NEW", "v"]])
    activation = DockerEnvManager().prepare(
        docker_project, envs.EnvOptions(docker_args={"gpus": "all", "privileged": True}))
    store = str(tmp_path / "mlruns")
    argv, _ = activation.process("python -V", {
        "MLFLOW_RUN_ID": "r1", "MLFLOW_TRACKING_URI": store, "SKIFF_TRACKING_URI": store,
        "MLFLOW_EXPERIMENT_ID": "0", "UNRELATED": "x"})
    assert argv[:3] == ["docker", "run", "--rm"]
    assert argv[-4:] == ["img:1", "bash", "-c", "python -V"]
    joined = " ".join(argv)
    assert f"-v {docker_project.directory}:/mlflow/projects/code/" in joined
    assert f"-v {store}:/mlflow/tmp/mlruns" in joined and "-v /data:/data" in joined
    assert "-e MLFLOW_TRACKING_URI=file:///mlflow/tmp/mlruns" in joined
    assert "-e MLFLOW_RUN_ID=r1" in joined and "UNRELATED" not in joined
    assert "-e FROM_HOST=h" in joined and "-e NEW=v" in joined
    assert "--gpus all" in joined and "--privileged" in joined
    assert activation.run_tags == {"mlflow.docker.image.uri": "img:1"}


def test_conda_missing_is_one_line(docker_project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("SKIFF_CONDA_HOME", raising=False)
    monkeypatch.delenv("MLFLOW_CONDA_HOME", raising=False)
    with pytest.raises(SkiffException, match="conda was not found"):
        CondaEnvManager().check(docker_project)


def test_uv_missing_is_one_line(docker_project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SkiffException, match="uv was not found"):
        envs.UvEnvManager().check(docker_project)


def test_builtin_backend_and_env_managers_are_registered():
    from skiff.plugins import get_registries

    registries = get_registries()
    assert registries.project_backends.names() == ["local"]
    assert set(registries.env_managers.names()) >= {"local", "virtualenv", "uv", "conda",
                                                    "docker"}
    assert registries.project_backends.plugin_for("local") == (
        "skiff._builtin.local_project_backend")


# -- the CLI refuses bad input before anything runs ---------------------------------------
@pytest.fixture
def cli_project(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "MLproject").write_text(
        "entry_points:\n  main:\n    parameters:\n      alpha: float\n      n: {type: int, "
        "default: 1}\n    command: 'touch ran-{alpha}'\n")
    monkeypatch.setenv("SKIFF_TRACKING_URI", str(tmp_path / "mlruns"))
    return project


@pytest.mark.parametrize("args, message", [
    ([], "No value given for required parameter(s) 'alpha'"),
    (["-P", "alpha=x"], "Parameter 'alpha' of entry point 'main' must be a float, got 'x'"),
    (["-P", "alpha=1", "-P", "n=1.5"], "must be an int"),
    (["-P", "alpha=1", "-e", "nope"], "Could not find entry point 'nope'"),
    (["-P", "alpha=1", "-b", "nowhere"], "Unknown project backend 'nowhere'"),
])
def test_cli_bad_input_is_one_line_and_nothing_runs(cli_project, tmp_path, args, message):
    from skiff.cli import build_cli

    result = CliRunner().invoke(build_cli(), ["run", str(cli_project), "--env-manager",
                                              "local", *args])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith("Error: ") and message in lines[0]
    assert not list(cli_project.glob("ran-*")) and not (tmp_path / "mlruns").exists()


def test_cli_unreachable_git_is_one_line(tmp_path, monkeypatch):
    from skiff.cli import build_cli

    monkeypatch.setenv("SKIFF_TRACKING_URI", str(tmp_path / "mlruns"))
    result = CliRunner().invoke(build_cli(), ["run", "https://127.0.0.1:9/org/none.git#sub"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Could not reach Git repository")
    assert result.output.count("\n") == 1 and not (tmp_path / "mlruns").exists()


def test_cli_malformed_param_option(cli_project):
    from skiff.cli import build_cli

    result = CliRunner().invoke(build_cli(), ["run", str(cli_project), "-P", "alpha"])
    assert result.exit_code == 2 and "use -P name=value" in result.output
