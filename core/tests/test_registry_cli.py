"""``skiff registered-models`` and ``skiff model-versions`` against a registry store found
through the plugin registries (an in-memory one here; tests/registry runs them on the file
and SQL stores and a real server)."""

import json

import pytest
from _memory_registry import MemoryRegistryStore, plugin
from click.testing import CliRunner

from skiff.entities import RunTag


@pytest.fixture
def store(monkeypatch):
    from skiff.plugins import get_plugin_manager

    memory = MemoryRegistryStore()
    get_plugin_manager().register(plugin(memory), "memory_registry")
    monkeypatch.setenv("SKIFF_REGISTRY_URI", "memreg:test")
    memory.create_registered_model("fraud", [RunTag("team", "risk")], "Flags fraud")
    memory.create_model_version("fraud", "runs:/r1/model", "r1", [RunTag("auc", "0.91")])
    memory.create_model_version("fraud", "runs:/r2/model", "r2", run_link="http://ui/r2")
    memory.transition_model_version_stage("fraud", "2", "Production", False)
    memory.set_registered_model_alias("fraud", "champion", "1")
    memory.create_registered_model("churn")
    memory.create_model_version("churn", "s3://bucket/churn", None, model_id="m-7")
    memory.create_registered_model("o'brien")
    return memory


def _cli(*args):
    from skiff.cli import build_cli

    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


def _ok(*args):
    result = _cli(*args)
    assert result.exit_code == 0, result.output
    return result


def test_list_models_as_a_table_with_latest_version_aliases_and_tags(store):
    lines = _ok("registered-models", "list").stdout.splitlines()
    assert lines[0].split() == ["Name", "Latest", "Version", "Aliases", "Tags", "Last",
                                "Updated"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert list(rows) == ["churn", "fraud", "o'brien"]  # name order
    assert rows["fraud"][1:4] == ["2", "champion=1", "team=risk"]
    assert rows["churn"][1] == "1"


def test_list_models_filters_pages_and_orders(store):
    found = _ok("registered-models", "list", "--filter", "tags.team = 'risk'").stdout
    assert "fraud" in found and "churn" not in found
    first = _ok("registered-models", "list", "--max-results", "2")
    assert "o'brien" not in first.stdout
    hint = first.stderr.strip()
    assert hint.startswith("More results: repeat with --page-token ")
    rest = _ok("registered-models", "list", "--max-results", "2", "--page-token",
               hint.split()[-1])
    assert "o'brien" in rest.stdout and not rest.stderr
    newest = _ok("registered-models", "list", "--order-by", "name DESC").stdout.splitlines()
    assert newest[2].startswith("o'brien")


def test_list_models_json_is_the_rest_response_shape(store):
    out = json.loads(_ok("registered-models", "list", "--max-results", "1", "--json").stdout)
    assert [m["name"] for m in out["registered_models"]] == ["churn"]
    assert out["next_page_token"]
    out = json.loads(_ok("registered-models", "list", "--filter", "name LIKE 'fr%'",
                         "--json").stdout)
    (fraud,) = out["registered_models"]
    assert "next_page_token" not in out
    assert fraud["aliases"] == [{"alias": "champion", "version": "1"}]
    assert {mv["current_stage"]: mv["version"] for mv in fraud["latest_versions"]} == {
        "None": "1", "Production": "2"}


def test_get_model_shows_aliases_tags_latest_per_stage_and_every_version(store):
    out = _ok("registered-models", "get", "--name", "fraud").stdout
    assert "Description:  Flags fraud" in out
    assert "Aliases:      champion -> 1" in out
    assert "team  risk" in out
    latest = out.split("Latest version per stage:")[1].split("Versions (2):")[0]
    assert [line.split()[:2] for line in latest.splitlines()[3:]] == [["None", "1"],
                                                                      ["Production", "2"]]
    versions = out.split("Versions (2):")[1].splitlines()[3:]
    assert [line.split()[:3] for line in versions] == [["2", "Production", "READY"],
                                                      ["1", "None", "READY"]]
    assert "champion" in versions[1] and "r1" in versions[1]


def test_get_model_json_and_a_name_with_a_quote(store):
    out = json.loads(_ok("registered-models", "get", "-n", "fraud", "--json").stdout)
    assert out["registered_model"]["name"] == "fraud"
    assert [mv["version"] for mv in out["model_versions"]] == ["2", "1"]
    quoted = _ok("registered-models", "get", "-n", "o'brien").stdout
    assert "Name:         o'brien" in quoted and "Versions (0):" in quoted


def test_list_versions_by_name_and_filter(store):
    out = _ok("model-versions", "list").stdout.splitlines()
    assert [line.split()[:2] for line in out[2:]] == [["churn", "1"], ["fraud", "2"],
                                                      ["fraud", "1"]]
    out = _ok("model-versions", "list", "--name", "fraud", "--filter", "run_id = 'r1'").stdout
    assert [line.split()[:2] for line in out.splitlines()[2:]] == [["fraud", "1"]]
    out = json.loads(_ok("model-versions", "list", "-n", "fraud", "--order-by",
                         "version_number ASC", "--json").stdout)
    assert [mv["version"] for mv in out["model_versions"]] == ["1", "2"]


def test_get_version_shows_its_lineage(store):
    out = _ok("model-versions", "get", "--name", "fraud", "--version", "2").stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line
                  and not line.startswith(" "))
    assert fields["Run ID"].strip() == "r2"
    assert fields["Source"].strip() == "runs:/r2/model"
    assert fields["Run link"].strip() == "http://ui/r2"
    assert fields["Stage"].strip() == "Production" and fields["Status"].strip() == "READY"
    by_alias = _ok("model-versions", "get", "-n", "fraud", "--alias", "champion").stdout
    assert "Version:      1" in by_alias and "auc  0.91" in by_alias
    churn = json.loads(_ok("model-versions", "get", "-n", "churn", "-v", "1", "--json").stdout)
    assert churn["model_version"]["model_id"] == "m-7"


def test_download_uri(store):
    assert _ok("model-versions", "download-uri", "-n", "fraud", "-v", "1").stdout == (
        "memory://fraud/1\n")
    out = _ok("model-versions", "download-uri", "-n", "fraud", "-a", "champion", "--json")
    assert json.loads(out.stdout) == {"artifact_uri": "memory://fraud/1"}


@pytest.mark.parametrize("args, message", [
    (["registered-models", "get", "-n", "nope"], "Registered Model with name=nope not found"),
    (["model-versions", "get", "-n", "fraud", "-v", "9"], "version=9) not found"),
    (["model-versions", "get", "-n", "fraud", "-a", "nope"], "alias nope not found"),
    (["model-versions", "download-uri", "-n", "nope", "-v", "1"], "name=nope not found"),
    (["model-versions", "get", "-n", "fraud"], "exactly one of --version and --alias"),
    (["model-versions", "get", "-n", "fraud", "-v", "1", "-a", "x"], "exactly one of"),
    (["registered-models", "list", "--filter", "nope = 'x'"], "Invalid attribute key"),
])
def test_errors_are_one_line_and_exit_1(store, args, message):
    result = _cli(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and message in line
