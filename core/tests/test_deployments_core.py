"""The deployments API and CLI, driven through a small target plugin registered by the test."""

from __future__ import annotations

import json
import sys
import types

import pytest
from click.testing import CliRunner

from skiff.deployments import BaseDeploymentClient, PredictionsResponse, get_deploy_client
from skiff.errors import SkiffException
from skiff.plugins import hookimpl
from skiff.testing.fixtures import registered

# A whole target plugin: one client class, run_local and target_help, as a module.
MEMO_SOURCE = '''
from skiff.deployments import BaseDeploymentClient, PredictionsResponse
from skiff.deployments.models import local_model_dir, read_mlmodel, require_flavor

DEPLOYED = {}
RUN_LOCAL_CALLS = []


class MemoClient(BaseDeploymentClient):
    def create_deployment(self, name, model_uri, flavor=None, config=None, endpoint=None):
        model_dir = local_model_dir(model_uri)
        flavor = require_flavor(read_mlmodel(model_dir, model_uri), flavor, model_uri)
        if name in DEPLOYED:
            raise ValueError(f"{name} exists")
        DEPLOYED[name] = {"name": name, "flavor": flavor, "model_uri": model_uri,
                          "config": dict(config or {}), "target": self.target_uri}
        return DEPLOYED[name]

    def update_deployment(self, name, model_uri=None, flavor=None, config=None, endpoint=None):
        DEPLOYED[name]["config"].update(config or {})
        if model_uri:
            DEPLOYED[name]["model_uri"] = model_uri
        return DEPLOYED[name]

    def delete_deployment(self, name, config=None, endpoint=None):
        DEPLOYED.pop(name, None)

    def list_deployments(self, endpoint=None):
        return [{"name": n} for n in sorted(DEPLOYED)]

    def get_deployment(self, name, endpoint=None):
        return DEPLOYED[name]

    def predict(self, deployment_name=None, inputs=None, endpoint=None):
        rows = inputs["inputs"] if isinstance(inputs, dict) else inputs.to_dict("records")
        return PredictionsResponse({"predictions": [len(str(r)) for r in rows]})


def run_local(target, name, model_uri, flavor=None, config=None):
    RUN_LOCAL_CALLS.append((target, name, model_uri, flavor, config))


def target_help():
    return "memo target: keeps deployments in memory. Config: any NAME=VALUE."
'''


@pytest.fixture
def memo_target():
    module = types.ModuleType("skiff_test_memo_target")
    exec(compile(MEMO_SOURCE, "memo_target.py", "exec"), module.__dict__)
    sys.modules[module.__name__] = module

    plugin = types.ModuleType("skiff_test_memo_plugin")
    plugin.register_deployment_targets = hookimpl(
        lambda register: register("memo", "skiff_test_memo_target"))
    with registered(plugin, "memo-plugin"):
        yield module
    sys.modules.pop(module.__name__, None)


@pytest.fixture
def model_dir(tmp_path):
    path = tmp_path / "model"
    path.mkdir()
    (path / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: my_loader\n    python_version: 3.11.0\n")
    return path


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


def test_cli_drives_a_target_plugin_end_to_end(memo_target, model_dir, tmp_path):
    result = _cli("deployments", "create", "-t", "memo:/somewhere", "--name", "m1",
                  "-m", str(model_dir), "-C", "alpha=1", "-C", "beta=x=y")
    assert result.exit_code == 0, result.output
    assert "python_function deployment 'm1' is created" in result.output
    assert memo_target.DEPLOYED["m1"]["config"] == {"alpha": "1", "beta": "x=y"}
    assert memo_target.DEPLOYED["m1"]["target"] == "memo:/somewhere"

    result = _cli("deployments", "update", "-t", "memo", "--name", "m1", "-C", "alpha=2")
    assert result.exit_code == 0 and memo_target.DEPLOYED["m1"]["config"]["alpha"] == "2"

    result = _cli("deployments", "list", "-t", "memo")
    assert json.loads(result.output) == [{"name": "m1"}]
    result = _cli("deployments", "get", "-t", "memo", "--name", "m1")
    assert json.loads(result.output)["model_uri"] == str(model_dir)

    inputs = tmp_path / "in.json"
    inputs.write_text(json.dumps({"inputs": ["a", "bbb"]}))
    out = tmp_path / "out.json"
    result = _cli("deployments", "predict", "-t", "memo", "--name", "m1", "-I", str(inputs),
                  "-O", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"predictions": [1, 3]}
    csv = tmp_path / "in.csv"
    csv.write_text("x\n1\n22\n")
    result = _cli("deployments", "predict", "-t", "memo", "--name", "m1", "-I", str(csv))
    assert json.loads(result.output) == {"predictions": [len(str({"x": 1})), len(str({"x": 22}))]}

    result = _cli("deployments", "run-local", "-t", "memo", "--name", "m1", "-m", "x",
                  "-C", "port=1")
    assert result.exit_code == 0
    assert memo_target.RUN_LOCAL_CALLS == [("memo", "m1", "x", None, {"port": "1"})]

    result = _cli("deployments", "help", "-t", "memo")
    assert "keeps deployments in memory" in result.output

    result = _cli("deployments", "delete", "-t", "memo", "--name", "m1")
    assert result.exit_code == 0 and memo_target.DEPLOYED == {}


def test_optional_methods_say_not_implemented_in_one_line(memo_target):
    runner = CliRunner()
    from skiff.cli import build_cli

    result = runner.invoke(build_cli(), ["deployments", "list-endpoints", "-t", "memo"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "does not support list_endpoints()" in result.output


def test_model_without_pyfunc_flavor_is_refused(memo_target, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
    with pytest.raises(SkiffException, match="has no python_function flavor.*sklearn"):
        get_deploy_client("memo").create_deployment("x", str(bare))


def test_unknown_target_lists_installed_targets_and_what_to_install(memo_target):
    from skiff.cli import build_cli

    result = CliRunner().invoke(build_cli(), ["deployments", "list", "-t", "nosuch:/x"])
    assert result.exit_code == 1
    assert "Unknown deployment target 'nosuch'" in result.output and "memo" in result.output


def test_missing_known_target_names_its_distribution():
    from skiff import plugins

    plugins.set_plugin_manager(plugins.make_plugin_manager(entrypoints=False))
    with pytest.raises(SkiffException) as err:
        get_deploy_client("sagemaker:/us-east-1")
    assert "pip install skiff-deploy-sagemaker" in err.value.message


def test_bad_config_pair_and_missing_name_or_endpoint(memo_target, model_dir):
    from skiff.cli import build_cli

    runner = CliRunner()
    result = runner.invoke(build_cli(), ["deployments", "create", "-t", "memo", "--name", "a",
                                         "-m", str(model_dir), "-C", "novalue"])
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
    result = runner.invoke(build_cli(), ["deployments", "predict", "-t", "memo", "-I",
                                         str(model_dir / "MLmodel")])
    assert result.exit_code == 2 and "exactly one of --name and --endpoint" in result.output


def test_default_target_comes_from_the_environment(memo_target, monkeypatch):
    monkeypatch.setenv("MLFLOW_DEPLOYMENTS_TARGET", "memo")
    assert isinstance(get_deploy_client(), BaseDeploymentClient)
    monkeypatch.delenv("MLFLOW_DEPLOYMENTS_TARGET")
    with pytest.raises(SkiffException, match="No deployment target set"):
        get_deploy_client()


def test_predictions_response_accessors():
    response = PredictionsResponse.from_json('{"predictions": [1, 2]}')
    assert response.get_predictions("ndarray").tolist() == [1, 2]
    assert response.get_predictions().shape == (2, 1)
    with pytest.raises(SkiffException):
        PredictionsResponse.from_json('[1]')


def test_scoring_payload_follows_the_scoring_protocol():
    import pandas as pd

    from skiff.deployments.base import scoring_payload

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert json.loads(scoring_payload(frame))["dataframe_split"] == {
        "columns": ["a", "b"], "index": [0, 1], "data": [[1, "x"], [2, "y"]]}
    assert json.loads(scoring_payload([[1, 2]])) == {"inputs": [[1, 2]]}
    assert json.loads(scoring_payload({"instances": [1]})) == {"instances": [1]}
    assert scoring_payload('{"inputs": 1}') == '{"inputs": 1}'
