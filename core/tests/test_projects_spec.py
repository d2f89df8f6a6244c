"""The MLproject format, parameter checks and command templates (no tracking store)."""

import os
import sys
import textwrap

import pytest

from skiff.errors import SkiffException
from skiff.projects import envs
from skiff.projects.params import check_parameters, localize_paths
from skiff.projects.spec import load_project


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path):
    write(tmp_path / "MLproject", """
        name: demo
        python_env: env/python_env.yaml
        entry_points:
          main:
            parameters:
              alpha: {type: float, default: 0.5}
              epochs: {type: int, default: 3}
              name: string
              data: path
              source: {type: uri, default: "s3://bucket/x"}
              flag: {type: string, default: true}
            command: "python train.py --alpha {alpha} --name {name} --data {data}"
          other:
            command: "echo other"
        """)
    write(tmp_path / "env" / "python_env.yaml", "python: '3.11'\ndependencies: [numpy]\n")
    write(tmp_path / "train.py", "print('hi')\n")
    write(tmp_path / "script.sh", "echo sh\n")
    return tmp_path


def test_mlproject_fields(project):
    spec = load_project(str(project))
    assert spec.name == "demo"
    assert spec.python_env == str(project / "env" / "python_env.yaml")
    assert spec.env_type == "python" and envs.default_env_manager(spec) == "virtualenv"
    main = spec.entry_points["main"]
    assert [(p.name, p.type, p.required) for p in main.parameters.values()] == [
        ("alpha", "float", False), ("epochs", "int", False), ("name", "string", True),
        ("data", "path", True), ("source", "uri", False), ("flag", "string", False)]


def test_file_name_is_case_insensitive(tmp_path):
    write(tmp_path / "mlproject", "entry_points:\n  main:\n    command: echo hi\n")
    assert load_project(str(tmp_path)).entry_points["main"].command == "echo hi"


def test_command_is_shell_quoted_and_extras_appended(project):
    spec = load_project(str(project))
    ep = spec.entry_points["main"]
    resolved = check_parameters(ep, {"name": "a b; rm -rf /", "data": "train.py", "x y": "1"},
                                str(project))
    command = resolved.command(ep)
    assert command == ("python train.py --alpha 0.5 --name 'a b; rm -rf /' --data train.py "
                       "--'x y' 1")
    assert resolved.logged["flag"] == "true" and resolved.logged["epochs"] == "3"


def test_missing_required_parameters_are_named_on_one_line(project):
    ep = load_project(str(project)).entry_points["main"]
    with pytest.raises(SkiffException) as info:
        check_parameters(ep, {})
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "'name', 'data'" in info.value.message and "\n" not in info.value.message


@pytest.mark.parametrize("key, value, expected", [
    ("alpha", "abc", "must be a float"),
    ("epochs", "2.5", "must be an int"),
    ("source", "not a uri", "must be a URI"),
    ("data", "no/such/file.csv", "existing path"),
])
def test_values_of_the_wrong_type(project, key, value, expected):
    ep = load_project(str(project)).entry_points["main"]
    given = {"name": "n", "data": "train.py", key: value}
    with pytest.raises(SkiffException, match=expected) as info:
        check_parameters(ep, given, str(project))
    assert info.value.error_code == "INVALID_PARAMETER_VALUE" and key in info.value.message


def test_path_parameters_become_absolute(project, monkeypatch, tmp_path_factory):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    ep = load_project(str(project)).entry_points["main"]
    resolved = check_parameters(ep, {"name": "n", "data": "train.py"}, str(project))
    localize_paths(ep, resolved, None, None, str(project))
    assert resolved.values["data"] == str(project / "train.py")
    assert resolved.logged["data"] == "train.py"  # the run records what was given


def test_file_uri_path_parameter(project):
    ep = load_project(str(project)).entry_points["main"]
    uri = "file://" + str(project / "train.py")
    resolved = check_parameters(ep, {"name": "n", "data": uri}, str(project))
    localize_paths(ep, resolved, None, None, str(project))
    assert resolved.values["data"] == str(project / "train.py")


def test_script_entry_points_and_unknown_ones(project, monkeypatch):
    spec = load_project(str(project))
    assert spec.get_entry_point("train.py").command == "python train.py"
    monkeypatch.setenv("SHELL", "/bin/sh")
    assert spec.get_entry_point("script.sh").command == "/bin/sh script.sh"
    with pytest.raises(SkiffException, match="Could not find entry point 'nope'") as info:
        spec.get_entry_point("nope")
    assert "'main', 'other'" in info.value.message
    outside = project.parent / "outside.py"
    outside.write_text("")
    with pytest.raises(SkiffException):
        spec.get_entry_point("../outside.py")


def test_undeclared_placeholder_in_command(tmp_path):
    write(tmp_path / "MLproject", "entry_points:\n  main:\n    command: 'echo {missing}'\n")
    ep = load_project(str(tmp_path)).entry_points["main"]
    with pytest.raises(SkiffException, match="missing"):
        check_parameters(ep, {}).command(ep)


def test_bad_mlproject_files(tmp_path):
    write(tmp_path / "MLproject", "python_env: a.yaml\nconda_env: b.yaml\n")
    with pytest.raises(SkiffException, match="more than one environment"):
        load_project(str(tmp_path))
    write(tmp_path / "MLproject", "python_env: missing.yaml\n")
    with pytest.raises(SkiffException, match="does not exist"):
        load_project(str(tmp_path))
    write(tmp_path / "MLproject", "entry_points: {main: {parameters: {a: decimal}, command: x}}")
    with pytest.raises(SkiffException, match="unknown type 'decimal'"):
        load_project(str(tmp_path))
    write(tmp_path / "MLproject", "entry_points: [unclosed\n")
    with pytest.raises(SkiffException, match="Could not parse"):
        load_project(str(tmp_path))


def test_projects_without_mlproject_follow_the_conventions(tmp_path):
    write(tmp_path / "run.py", "")
    spec = load_project(str(tmp_path))
    assert spec.entry_points == {} and spec.python_env is None and spec.conda_env is None
    assert spec.get_entry_point("run.py").command == "python run.py"
    write(tmp_path / "conda.yaml", "dependencies: [python=3.10, {pip: [requests]}]\n")
    spec = load_project(str(tmp_path))
    assert spec.conda_env and envs.default_env_manager(spec) == "conda"
    assert envs.read_python_env(spec) == {"python": "3.10", "build_dependencies": [],
                                          "dependencies": ["requests"]}
    write(tmp_path / "python_env.yaml", "python: '3.11'\n")
    assert load_project(str(tmp_path)).python_env == str(tmp_path / "python_env.yaml")


def test_docker_env(tmp_path):
    write(tmp_path / "MLproject", """
        name: dock
        docker_env:
          image: python:3.11-slim
          volumes: ["/data:/data"]
          environment: [HOME, ["A", "1"]]
        entry_points: {main: {command: "python -V"}}
        """)
    spec = load_project(str(tmp_path))
    assert spec.env_type == "docker" and envs.default_env_manager(spec) == "docker"
    assert spec.docker_env.image == "python:3.11-slim"
    assert spec.docker_env.environment == ["HOME", ["A", "1"]]


def test_environment_hash_follows_content(project):
    spec = load_project(str(project))
    write(project / "requirements.txt", "numpy\n")
    write(project / "env" / "python_env.yaml", "python: '3.11'\ndependencies: [-r requirements.txt]\n")
    first = envs.environment_hash(spec, envs.read_python_env(spec), "uv")
    assert first == envs.environment_hash(spec, envs.read_python_env(spec), "uv")
    assert first != envs.environment_hash(spec, envs.read_python_env(spec), "virtualenv")
    write(project / "requirements.txt", "numpy\npandas\n")
    assert first != envs.environment_hash(spec, envs.read_python_env(spec), "uv")


def test_env_root_prefers_skiff_then_mlflow(monkeypatch, tmp_path):
    monkeypatch.delenv("SKIFF_ENV_ROOT", raising=False)
    monkeypatch.setenv("MLFLOW_ENV_ROOT", str(tmp_path / "m"))
    assert envs.env_root() == str(tmp_path / "m")
    monkeypatch.setenv("SKIFF_ENV_ROOT", str(tmp_path / "s"))
    assert envs.env_root() == str(tmp_path / "s")


def test_local_env_runs_the_current_interpreter(project):
    activation = envs.LocalEnvManager().prepare(load_project(str(project)), envs.EnvOptions())
    argv, env = activation.process("python -V", {"PATH": "/usr/bin"})
    assert argv == ["bash", "-c", "python -V"]
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)
