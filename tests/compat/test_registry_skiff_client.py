"""Skiff's Client registry methods (through ``RestRegistryStore``) against a real MLflow
3.17.2 server and against a real ``skiff server``: the same checks pass on both."""

from __future__ import annotations

import json
import uuid

import pytest

from skiff.errors import SkiffException


@pytest.fixture(params=["skiff", "mlflow"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def client(server):
    from skiff.tracking.client import Client

    return Client(tracking_uri=server.url, registry_uri=server.url)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _code(call) -> str | None:
    try:
        call()
    except SkiffException as exc:
        return exc.error_code
    return None


def _run_with_model(client):
    exp_id = client.create_experiment(_name("reg-exp"))
    run = client.create_run(exp_id, run_name="reg")
    client.log_text(run.info.run_id, "flavors: {}\n", "model/MLmodel")
    return exp_id, run


def test_registered_models_versions_aliases_and_stages(client):
    _exp, run = _run_with_model(client)
    rid = run.info.run_id
    name = _name("reg")
    rm = client.create_registered_model(name, tags={"team": "skiff"}, description="d")
    assert rm.name == name and rm.tags == {"team": "skiff"} and rm.description == "d"
    assert _code(lambda: client.create_registered_model(name)) == "RESOURCE_ALREADY_EXISTS"
    versions = [client.create_model_version(name, f"runs:/{rid}/model", rid,
                                            tags={"i": str(i)}).version for i in range(3)]
    assert versions == ["1", "2", "3"]
    mv = client.get_model_version(name, "1")
    assert mv.run_id == rid and mv.status == "READY" and mv.tags == {"i": "0"}
    assert mv.source == f"runs:/{rid}/model"
    # Skiff resolves the location; MLflow 3.17 answers the runs:/ source as it is
    uri = client.get_model_version_download_uri(name, "1")
    assert uri in (run.info.artifact_uri + "/model", f"runs:/{rid}/model")

    client.update_registered_model(name, "new description")
    client.update_model_version(name, "1", "first")
    assert client.get_model_version(name, "1").description == "first"
    client.set_registered_model_tag(name, "k", "v")
    client.delete_registered_model_tag(name, "team")
    client.set_model_version_tag(name, "2", "q", "x")
    client.delete_model_version_tag(name, "1", "i")
    got = client.get_registered_model(name)
    assert got.description == "new description" and got.tags == {"k": "v"}
    assert client.get_model_version(name, "1").tags == {}

    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "staging")
    moved = client.transition_model_version_stage(name, "3", "Production",
                                                  archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    latest = client.get_latest_versions(name, ["Production", "Staging"])
    assert sorted((v.version, v.current_stage) for v in latest) == [
        ("2", "Staging"), ("3", "Production")]
    assert _code(lambda: client.transition_model_version_stage(name, "1", "Prod")) == (
        "INVALID_PARAMETER_VALUE")

    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_registered_model(name).aliases == {"champion": "2"}
    assert client.get_model_version(name, "2").aliases == ["champion"]
    assert _code(lambda: client.set_registered_model_alias(name, "latest", "1")) == (
        "INVALID_PARAMETER_VALUE")
    client.delete_registered_model_alias(name, "champion")
    # Skiff answers RESOURCE_DOES_NOT_EXIST; MLflow 3.17's SQL store INVALID_PARAMETER_VALUE
    assert _code(lambda: client.get_model_version_by_alias(name, "champion")) in (
        "RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")

    client.delete_model_version(name, "3")
    assert _code(lambda: client.get_model_version(name, "3")) == "RESOURCE_DOES_NOT_EXIST"
    assert client.create_model_version(name, f"runs:/{rid}/model", rid).version == "4"
    renamed = client.rename_registered_model(name, name + "-renamed")
    assert renamed.name == name + "-renamed"
    assert client.get_model_version(name + "-renamed", "2").name == name + "-renamed"
    client.delete_registered_model(name + "-renamed")
    assert _code(lambda: client.get_registered_model(name + "-renamed")) == (
        "RESOURCE_DOES_NOT_EXIST")


def test_search_and_paging(client):
    _exp, run = _run_with_model(client)
    rid = run.info.run_id
    prefix = _name("search")
    for i in range(4):
        client.create_registered_model(f"{prefix}-{i}", tags={"even": str(i % 2 == 0)})
        client.create_model_version(f"{prefix}-{i}", f"runs:/{rid}/model", rid)
    first = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=3)
    assert [m.name for m in first] == [f"{prefix}-{i}" for i in range(3)] and first.token
    rest = client.search_registered_models(f"name LIKE '{prefix}-%'", max_results=3,
                                           page_token=first.token)
    assert [m.name for m in rest] == [f"{prefix}-3"] and not rest.token
    even = client.search_registered_models(
        f"name LIKE '{prefix}-%' AND tags.even = 'True'", order_by=["name DESC"])
    assert [m.name for m in even] == [f"{prefix}-2", f"{prefix}-0"]
    versions = client.search_model_versions(f"run_id = '{rid}'")
    assert sorted(v.name for v in versions) == [f"{prefix}-{i}" for i in range(4)]
    assert _code(lambda: client.search_registered_models("name = 'a' OR name = 'b'")) == (
        "INVALID_PARAMETER_VALUE")


def test_logged_model_registration_and_copy(client):
    exp_id, run = _run_with_model(client)
    rid = run.info.run_id
    model = client.create_logged_model(exp_id, "lm", rid)
    name = _name("from-logged")
    client.create_registered_model(name)
    mv = client.create_model_version(name, f"models:/{model.model_id}",
                                     model_id=model.model_id)
    assert mv.run_id == rid and mv.source == f"models:/{model.model_id}"
    links = json.loads(client.get_logged_model(model.model_id).tags["mlflow.modelVersions"])
    assert [(e["name"], str(e["version"])) for e in links] == [(name, "1")]
    assert client.get_model_version_download_uri(name, "1") == model.artifact_location

    dst = _name("copy")
    copied = client.copy_model_version(f"models:/{name}/1", dst)
    assert copied.name == dst and copied.version == "1" and copied.run_id == rid


@pytest.mark.parametrize("source", ["/etc", "file:///etc/passwd",
                                    "mlflow-artifacts:/0/..%2f..%2f..%2fetc"])
def test_refused_sources(client, source):
    _exp, run = _run_with_model(client)
    name = _name("refused")
    client.create_registered_model(name)
    code = _code(lambda: client.create_model_version(name, source, run.info.run_id))
    assert code == "INVALID_PARAMETER_VALUE"
