"""The fluent tracking API end to end on the default file store (./mlruns)."""

import json
import os
import subprocess
import sys

import pytest

import skiff
from skiff.errors import SkiffException


def test_default_store_is_mlruns_in_the_working_directory(tmp_path):
    with skiff.start_run() as run:
        skiff.log_param("alpha", 0.5)
    assert (tmp_path / "mlruns" / "0" / run.info.run_id / "meta.yaml").exists()
    assert skiff.get_run(run.info.run_id).data.params == {"alpha": "0.5"}


def test_run_lifecycle_tags_and_names():
    with skiff.start_run(run_name="first", tags={"team": "ml"}, description="hello") as run:
        run_id = run.info.run_id
        assert skiff.active_run().info.run_id == run_id
        skiff.log_metric("loss", 1.0, step=0)
        skiff.log_metric("loss", 0.5, step=1)
        skiff.log_metrics({"acc": 0.9, "f1": 0.8}, step=1)
        skiff.set_tags({"a": 1, "b": "x"})
        skiff.delete_tag("b")
        skiff.log_params({"p1": 1, "p2": "two"})
    assert skiff.active_run() is None
    run = skiff.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.end_time is not None
    assert run.info.run_name == "first"
    tags = run.data.tags
    assert tags["mlflow.runName"] == "first" and tags["team"] == "ml" and "b" not in tags
    assert tags["mlflow.note.content"] == "hello"
    assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.user"]
    assert "mlflow.source.name" in tags
    assert run.data.metrics == {"loss": 0.5, "acc": 0.9, "f1": 0.8}
    history = skiff.Client().get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]
    assert skiff.last_active_run().info.run_id == run_id


def test_missing_run_name_is_generated():
    with skiff.start_run() as run:
        pass
    name = skiff.get_run(run.info.run_id).info.run_name
    assert name and len(name) <= 20 and name.count("-") == 2


def test_failing_with_block_ends_the_run_failed():
    with pytest.raises(ZeroDivisionError):
        with skiff.start_run() as run:
            raise ZeroDivisionError("boom")
    assert skiff.get_run(run.info.run_id).info.status == "FAILED"


def test_nested_runs_and_parent_tag():
    with skiff.start_run() as parent:
        with pytest.raises(SkiffException, match="already active"):
            skiff.start_run()
        with skiff.start_run(nested=True) as child:
            pass
        assert skiff.active_run().info.run_id == parent.info.run_id
    child = skiff.get_run(child.info.run_id)
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert skiff.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id


def test_resume_a_run_by_id_and_env(monkeypatch):
    with skiff.start_run() as run:
        skiff.log_param("x", 1)
    with skiff.start_run(run_id=run.info.run_id):
        skiff.log_metric("m", 2.0)
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    with skiff.start_run():
        skiff.set_tag("resumed", "yes")
    data = skiff.get_run(run.info.run_id).data
    assert data.params == {"x": "1"} and data.metrics == {"m": 2.0}
    assert data.tags["resumed"] == "yes"


def test_experiments_by_name_and_env(monkeypatch):
    experiment = skiff.set_experiment("exp-a")
    with skiff.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    skiff.set_experiment_tag("owner", "me")
    assert skiff.get_experiment(experiment.experiment_id).tags["owner"] == "me"
    with pytest.raises(SkiffException) as err:
        skiff.create_experiment("exp-a")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    from skiff.tracking import fluent

    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setenv("SKIFF_EXPERIMENT_NAME", "exp-from-env")
    with skiff.start_run() as run2:
        pass
    assert skiff.get_experiment(run2.info.experiment_id).name == "exp-from-env"
    names = {e.name for e in skiff.search_experiments()}
    assert {"Default", "exp-a", "exp-from-env"} <= names
    skiff.delete_experiment(experiment.experiment_id)
    assert skiff.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
    skiff.restore_experiment(experiment.experiment_id)


def test_params_are_immutable():
    with skiff.start_run():
        skiff.log_param("p", "a")
        skiff.log_param("p", "a")
        with pytest.raises(SkiffException) as err:
            skiff.log_param("p", "b")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_artifacts_text_dict_and_files(tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "a.txt").write_text("A")
    (src / "sub").mkdir()
    (src / "sub" / "b.txt").write_text("B")
    with skiff.start_run() as run:
        skiff.log_text("hello", "notes/hello.txt")
        skiff.log_dict({"k": [1, 2]}, "cfg/config.json")
        skiff.log_dict({"k": 1}, "cfg/config.yaml")
        skiff.log_artifact(str(src / "a.txt"), "files")
        skiff.log_artifacts(str(src), "tree")
        uri = skiff.get_artifact_uri("notes/hello.txt")
    assert uri.endswith("artifacts/notes/hello.txt")
    client = skiff.Client()
    listed = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert listed == {"notes", "cfg", "files", "tree"}
    assert {f.path for f in client.list_artifacts(run.info.run_id, "tree")} == {
        "tree/a.txt", "tree/sub"}
    out = client.download_artifacts(run.info.run_id, "tree", str(tmp_path / "out"))
    assert open(os.path.join(out, "sub", "b.txt")).read() == "B"
    from skiff.artifacts import load_dict, load_text

    assert load_text(f"runs:/{run.info.run_id}/notes/hello.txt") == "hello"
    assert load_dict(f"runs:/{run.info.run_id}/cfg/config.json") == {"k": [1, 2]}


def test_log_input_dataset():
    from skiff.entities import Dataset

    with skiff.start_run() as run:
        skiff.log_input(Dataset("train", "d1", "local", '{"uri": "x.csv"}'), context="training")
    inputs = skiff.get_run(run.info.run_id).inputs.dataset_inputs
    assert inputs[0].dataset.name == "train"
    assert {t.key: t.value for t in inputs[0].tags} == {"mlflow.data.context": "training"}


def test_search_runs_frame_and_list():
    pytest.importorskip("pandas")
    for alpha in (0.1, 0.5, 0.9):
        with skiff.start_run():
            skiff.log_param("alpha", alpha)
            skiff.log_metric("rmse", alpha * 2)
    frame = skiff.search_runs(filter_string="metrics.rmse < 1.5", order_by=["metrics.rmse DESC"])
    assert list(frame["params.alpha"]) == ["0.5", "0.1"]
    assert {"run_id", "experiment_id", "status", "start_time", "metrics.rmse",
            "tags.mlflow.runName"} <= set(frame.columns)
    runs = skiff.search_runs(filter_string="params.alpha = '0.9'", output_format="list")
    assert len(runs) == 1 and runs[0].data.metrics["rmse"] == 1.8


def test_async_logging_flushes_at_end_run():
    with skiff.start_run() as run:
        for i in range(500):
            skiff.log_metric("m", float(i), step=i, synchronous=False)
    assert len(skiff.Client().get_metric_history(run.info.run_id, "m")) == 500


def test_async_logging_of_100000_metrics_survives_interpreter_exit(tmp_path):
    script = tmp_path / "log_async.py"
    script.write_text(
        "import os, skiff\n"
        "os.environ['SKIFF_ENABLE_ASYNC_LOGGING'] = 'true'\n"
        "run = skiff.start_run()\n"
        "print(run.info.run_id, flush=True)\n"
        "for i in range(100_000):\n"
        "    skiff.log_metric('m', float(i), step=i)\n"
        "# no end_run, no flush: exit must flush\n")
    env = {**os.environ, "SKIFF_TRACKING_URI": str(tmp_path / "mlruns")}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         check=True, timeout=300)
    run_id = out.stdout.split()[0]
    client = skiff.Client(str(tmp_path / "mlruns"))
    history = client.get_metric_history(run_id, "m")
    assert len(history) == 100_000
    assert {m.step for m in history} == set(range(100_000))


def test_cli_experiments_and_runs(tmp_path):
    from click.testing import CliRunner

    from skiff.cli import build_cli

    cli = build_cli()
    runner = CliRunner()
    result = runner.invoke(cli, ["experiments", "create", "-n", "cli-exp"])
    assert result.exit_code == 0, result.output
    exp_id = result.output.strip().split()[-1]
    with skiff.start_run(experiment_id=exp_id) as run:
        skiff.log_metric("m", 1.0)
    result = runner.invoke(cli, ["runs", "list", "--experiment-id", exp_id])
    assert run.info.run_id in result.output
    result = runner.invoke(cli, ["runs", "describe", "--run-id", run.info.run_id])
    assert json.loads(result.output)["info"]["run_id"] == run.info.run_id
    result = runner.invoke(cli, ["experiments", "rename", "-x", exp_id, "--new-name", "renamed"])
    assert "renamed" in result.output
    result = runner.invoke(cli, ["experiments", "search"])
    assert "renamed" in result.output
    result = runner.invoke(cli, ["runs", "delete", "--run-id", run.info.run_id])
    assert result.exit_code == 0
    result = runner.invoke(cli, ["gc", "--run-ids", run.info.run_id])
    assert result.exit_code == 0, result.output
    with pytest.raises(SkiffException):
        skiff.get_run(run.info.run_id)


def test_cli_errors_are_one_line_with_exit_code_1():
    result = subprocess.run([sys.executable, "-m", "skiff.cli", "runs", "describe", "--run-id",
                             "0123456789abcdef0123456789abcdef"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error:")
    assert "Traceback" not in result.stderr


def test_cli_artifacts_round_trip(tmp_path):
    from click.testing import CliRunner

    from skiff.cli import build_cli

    (tmp_path / "f.txt").write_text("data")
    with skiff.start_run() as run:
        pass
    runner, cli = CliRunner(), build_cli()
    rid = run.info.run_id
    assert runner.invoke(cli, ["artifacts", "log-artifact", "-l", str(tmp_path / "f.txt"),
                               "-r", rid, "-a", "x"]).exit_code == 0
    listed = json.loads(runner.invoke(cli, ["artifacts", "list", "-r", rid]).output)
    assert listed == [{"path": "x", "is_dir": True}]
    out = runner.invoke(cli, ["artifacts", "download", "-r", rid, "-a", "x/f.txt",
                              "-d", str(tmp_path / "dl")]).output.strip()
    assert open(out).read() == "data"
    out = runner.invoke(cli, ["artifacts", "download", "-u", f"runs:/{rid}/x",
                              "-d", str(tmp_path / "dl2")]).output.strip()
    assert os.path.exists(os.path.join(out, "f.txt"))
