"""`skiff.projects.run` and `skiff run` end to end on the file store: tags, parameters,
the child's environment, failures, cancel, parallel runs, backends and Git projects."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

import skiff
from skiff import projects
from skiff.errors import SkiffException
from skiff.tracking.client import Client

PROBE = """\
import json, os, sys
import skiff

args = sys.argv[1:]
data = args[args.index("--data") + 1]
with open(data) as f:
    content = f.read()
env = {k: v for k, v in os.environ.items() if k.startswith(("SKIFF_", "MLFLOW_"))}
with skiff.start_run():
    skiff.log_dict({"argv": args, "env": env, "data": data, "content": content,
                    "cwd": os.getcwd()}, "probe.json")
    skiff.log_metric("ran", 1.0)
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "probe-project"
    root.mkdir()
    (root / "MLproject").write_text(textwrap.dedent("""\
        name: probe
        entry_points:
          main:
            parameters:
              alpha: {type: float, default: 0.1}
              data: {type: path, default: data.txt}
              label: {type: string, default: x}
            command: "python probe.py --alpha {alpha} --data {data}"
          fail:
            parameters:
              code: {type: int, default: 3}
            command: "python -c 'import sys; sys.exit({code})'"
          sleep:
            command: "python -c 'import time; time.sleep(120)'"
        """))
    (root / "probe.py").write_text(PROBE)
    (root / "data.txt").write_text("default data")
    return root


def probe_output(run_id):
    from skiff.artifacts.download import load_dict

    return load_dict(f"runs:/{run_id}/probe.json")


def test_run_records_mlflow_tags_params_and_exports_the_run(project, tmp_path):
    submitted = projects.run(str(project), parameters={"alpha": "0.5", "extra": "e f"},
                             env_manager="local", experiment_name="projects-exp",
                             run_name="first")
    assert submitted.get_status() == "FINISHED"
    client = Client()
    run = client.get_run(submitted.run_id)
    experiment = client.get_experiment_by_name("projects-exp")
    assert run.info.experiment_id == experiment.experiment_id
    assert run.info.status == "FINISHED" and run.info.run_name == "first"
    tags = run.data.tags
    assert tags["mlflow.source.type"] == "PROJECT"
    assert tags["mlflow.source.name"] == str(project)
    assert tags["mlflow.project.entryPoint"] == "main"
    assert tags["mlflow.project.env"] == "local"
    assert tags["mlflow.project.backend"] == "local"
    assert tags["mlflow.runName"] == "first" and tags["mlflow.user"]
    assert run.data.params == {"alpha": "0.5", "data": "data.txt", "label": "x",
                               "extra": "e f"}
    assert run.data.metrics == {"ran": 1.0}
    probe = probe_output(run.info.run_id)
    assert probe["argv"] == ["--alpha", "0.5", "--data", str(project / "data.txt"), "--extra",
                             "e f"]
    assert probe["content"] == "default data" and probe["cwd"] == str(project)
    env = probe["env"]
    store = str(tmp_path / "mlruns")
    for prefix in ("SKIFF_", "MLFLOW_"):
        assert env[prefix + "RUN_ID"] == run.info.run_id
        assert env[prefix + "EXPERIMENT_ID"] == experiment.experiment_id
        assert env[prefix + "TRACKING_URI"] == store


def test_failing_entry_point_marks_the_run_failed_with_its_exit_code(project):
    with pytest.raises(projects.ExecutionException, match="failed with exit code 3") as info:
        projects.run(str(project), entry_point="fail", env_manager="local")
    assert info.value.exit_code == 3
    run = skiff.search_runs(output_format="list")[0]
    assert run.info.status == "FAILED" and run.info.end_time
    assert run.data.tags["skiff.project.exitCode"] == "3"


def test_cli_runs_a_project_and_passes_the_exit_code_on(project, tmp_path):
    cli = [sys.executable, "-m", "skiff.cli", "run", str(project), "--env-manager", "local"]
    ok = subprocess.run([*cli, "-P", "alpha=2", "--experiment-name", "cli-exp"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "succeeded" in ok.stderr
    failed = subprocess.run([*cli, "-e", "fail", "-P", "code=7"], capture_output=True,
                            text=True, timeout=120)
    assert failed.returncode == 7
    assert failed.stderr.strip().splitlines()[-1].endswith("failed with exit code 7")
    runs = skiff.search_runs(search_all_experiments=True, output_format="list")
    assert sorted(r.info.status for r in runs) == ["FAILED", "FINISHED"]


def test_cancel_marks_the_run_killed(project):
    submitted = projects.run(str(project), entry_point="sleep", env_manager="local",
                             synchronous=False)
    assert submitted.get_status() == "RUNNING"
    assert skiff.get_run(submitted.run_id).info.status == "RUNNING"
    submitted.cancel()
    assert submitted.get_status() == "KILLED"
    assert submitted.process.poll() is not None
    assert not submitted.wait()
    assert skiff.get_run(submitted.run_id).info.status == "KILLED"


def test_parallel_runs_inside_an_active_run_are_its_children(project):
    with skiff.start_run() as parent:
        started = time.monotonic()
        submitted = [projects.run(str(project), parameters={"alpha": str(a)},
                                  env_manager="local", synchronous=False) for a in (1, 2, 3)]
        launch_time = time.monotonic() - started
        assert all(s.wait() for s in submitted)
    assert launch_time < 10  # the caller did not wait for each one in turn
    for s, alpha in zip(submitted, ("1", "2", "3")):
        run = skiff.get_run(s.run_id)
        assert run.info.status == "FINISHED" and run.data.params["alpha"] == alpha
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert len({s.run_id for s in submitted}) == 3


def test_path_parameters_download_runs_uris(project, tmp_path):
    source = tmp_path / "input.txt"
    source.write_text("from an artifact")
    with skiff.start_run() as producer:
        skiff.log_artifact(str(source), "inputs")
    uri = f"runs:/{producer.info.run_id}/inputs/input.txt"
    storage = tmp_path / "storage"
    submitted = projects.run(str(project), parameters={"data": uri}, env_manager="local",
                             storage_dir=str(storage))
    probe = probe_output(submitted.run_id)
    assert probe["content"] == "from an artifact"
    assert probe["data"].startswith(str(storage))
    assert skiff.get_run(submitted.run_id).data.params["data"] == uri
    with pytest.raises(SkiffException, match="Could not download"):
        projects.run(str(project), parameters={"data": f"runs:/{producer.info.run_id}/nope"},
                     env_manager="local")


def test_run_id_logs_into_an_existing_run(project):
    client = Client()
    existing = client.create_run("0")
    submitted = projects.run(str(project), env_manager="local", run_id=existing.info.run_id)
    assert submitted.run_id == existing.info.run_id
    run = client.get_run(existing.info.run_id)
    assert run.info.status == "FINISHED" and run.data.metrics == {"ran": 1.0}
    assert run.data.tags["mlflow.source.type"] == "PROJECT"


class RecordingBackend:
    """A second backend, from a test plugin: records its call, returns a finished run."""

    calls = []

    def run(self, project_uri, entry_point, params, version, backend_config, tracking_uri,
            experiment_id):
        self.calls.append(dict(uri=project_uri, entry_point=entry_point, params=params,
                               version=version, config=backend_config,
                               tracking_uri=tracking_uri, experiment_id=experiment_id))
        run = Client(tracking_uri).create_run(experiment_id, tags={
            "mlflow.project.backend": "recorder"})
        Client(tracking_uri).set_terminated(run.info.run_id, "FINISHED")
        return FinishedRun(run.info.run_id)


class FinishedRun(projects.SubmittedRun):
    def __init__(self, run_id):
        self._run_id = run_id

    @property
    def run_id(self):
        return self._run_id

    def wait(self):
        return True

    def get_status(self):
        return "FINISHED"

    def cancel(self):
        pass


class RecorderPlugin:
    @skiff.hookimpl
    def register_project_backends(self, register):
        register("recorder", RecordingBackend)


def test_a_backend_plugin_is_reached_through_the_hook(project, tmp_path):
    from skiff.testing.fixtures import registered

    RecordingBackend.calls.clear()
    with registered(RecorderPlugin(), "recorder-plugin"):
        submitted = projects.run(str(project), entry_point="train", backend="recorder",
                                 parameters={"a": 1}, version="v2",
                                 backend_config=json.dumps({"cluster": "big"}))
        assert submitted.get_status() == "FINISHED"
        config_file = tmp_path / "backend.json"
        config_file.write_text('{"cluster": "small"}')
        from click.testing import CliRunner

        from skiff.cli import build_cli

        result = CliRunner().invoke(build_cli(), ["run", str(project), "-b", "recorder", "-c",
                                                  str(config_file), "-P", "k=v"])
        assert result.exit_code == 0, result.output
    first, second = RecordingBackend.calls
    assert first["uri"] == str(project) and first["entry_point"] == "train"
    assert first["params"] == {"a": 1} and first["version"] == "v2"
    assert first["config"]["cluster"] == "big" and first["experiment_id"] == "0"
    assert first["tracking_uri"] == str(tmp_path / "mlruns")
    assert second["config"]["cluster"] == "small" and second["params"] == {"k": "v"}
    with pytest.raises(SkiffException, match="Unknown project backend 'recorder'"):
        projects.run(str(project), backend="recorder")


def test_git_projects_record_commit_repo_and_branch(project, tmp_path):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    repo = tmp_path / "repo"
    shutil.copytree(project, repo / "proj")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "c1"],
                 ["branch", "release"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                            text=True, check=True).stdout.strip()
    uri = f"file://{repo}#proj"
    submitted = projects.run(uri, version="release", env_manager="local")
    tags = skiff.get_run(submitted.run_id).data.tags
    assert tags["mlflow.source.name"] == uri
    assert tags["mlflow.source.git.commit"] == commit
    assert tags["mlflow.source.git.repoURL"] == f"file://{repo}"
    assert tags["mlflow.source.git.branch"] == "release"
    checkout = probe_output(submitted.run_id)["cwd"]
    assert checkout != str(repo / "proj")  # a fresh checkout, deleted once the run ended
    assert not os.path.exists(checkout)


def test_docker_project_without_an_engine_fails_before_the_run(tmp_path):
    from skiff.projects._docker import engine_problem

    if engine_problem() is None:
        pytest.skip("a Docker engine answers on this machine")
    root = tmp_path / "dock"
    root.mkdir()
    (root / "MLproject").write_text("name: dock\ndocker_env: {image: 'python:3.11-slim'}\n"
                                    "entry_points: {main: {command: 'python -V'}}\n")
    with pytest.raises(SkiffException, match="^No Docker engine answered") as info:
        projects.run(str(root))
    assert "\n" not in info.value.message
    assert skiff.search_runs(search_all_experiments=True, output_format="list") == []


def test_project_without_mlproject_runs_its_scripts(tmp_path):
    root = tmp_path / "scripts"
    root.mkdir()
    (root / "hello.sh").write_text('echo "hello $1" > out.txt\n')
    submitted = projects.run(str(root), entry_point="hello.sh", parameters={"who": "x"},
                             env_manager="local")
    run = skiff.get_run(submitted.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.project.entryPoint"] == "hello.sh"
    assert run.data.params == {"who": "x"}
    assert (root / "out.txt").read_text() == "hello --who\n"


def test_experiment_from_the_environment_and_by_id(project, monkeypatch):
    client = Client()
    named = client.create_experiment("from-env")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "from-env")
    first = projects.run(str(project), env_manager="local")
    assert skiff.get_run(first.run_id).info.experiment_id == named
    by_id = client.create_experiment("by-id")
    second = projects.run(str(project), env_manager="local", experiment_id=by_id)
    run = skiff.get_run(second.run_id)
    assert run.info.experiment_id == by_id
    # the child sees the run's experiment, not the caller's experiment name
    env = probe_output(second.run_id)["env"]
    assert env["MLFLOW_EXPERIMENT_ID"] == by_id and "MLFLOW_EXPERIMENT_NAME" not in env
    with pytest.raises(SkiffException):
        projects.run(str(project), env_manager="local", experiment_id="424242")
