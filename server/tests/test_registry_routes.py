"""Every registry route through Flask's test client (in-memory tracking store and registry),
and the model-version source rules: each refused form of MLflow's registry CVEs."""

from __future__ import annotations

import json
import os
import uuid

import pytest


def _model(api, name="m", **kw):
    return api.post("/registered-models/create", {"name": name, **kw})["registered_model"]


def _run_with_file(api, client, text="model-bytes"):
    """A run with ``model/MLmodel`` uploaded through the proxy; returns (run_id, info)."""
    exp_id = api.experiment(uuid.uuid4().hex)
    rid = api.run(exp_id)
    info = api.get("/runs/get", {"run_id": rid})["run"]["info"]
    path = info["artifact_uri"][len("mlflow-artifacts:/"):]
    r = client.put(f"/api/2.0/mlflow-artifacts/artifacts/{path}/model/MLmodel", data=text)
    assert r.status_code == 200
    return rid, info


def test_registered_model_lifecycle(api):
    rm = _model(api, "m1", tags=[{"key": "team", "value": "a"}], description="d")
    assert rm["name"] == "m1" and rm["description"] == "d"
    assert rm["tags"] == [{"key": "team", "value": "a"}] and rm["creation_timestamp"] > 0
    dup = api.post("/registered-models/create", {"name": "m1"}, status=400)
    assert dup["error_code"] == "RESOURCE_ALREADY_EXISTS"
    got = api.get("/registered-models/get", {"name": "m1"})["registered_model"]
    assert got["name"] == "m1"
    updated = api.call("PATCH", "/registered-models/update", {"name": "m1", "description": "x"})
    assert updated["registered_model"]["description"] == "x"
    api.post("/registered-models/set-tag", {"name": "m1", "key": "k", "value": "v"})
    api.call("DELETE", "/registered-models/delete-tag", {"name": "m1", "key": "team"})
    got = api.get("/registered-models/get", {"name": "m1"})["registered_model"]
    assert got["tags"] == [{"key": "k", "value": "v"}]
    renamed = api.post("/registered-models/rename", {"name": "m1", "new_name": "m2"})
    assert renamed["registered_model"]["name"] == "m2"
    missing = api.get("/registered-models/get", {"name": "m1"}, status=404)
    assert missing["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    api.call("DELETE", "/registered-models/delete", {"name": "m2"})
    api.get("/registered-models/get", {"name": "m2"}, status=404)


@pytest.mark.parametrize("name", ["", "a/b", "a:b", ".."])
def test_bad_model_names(api, name):
    err = api.post("/registered-models/create", {"name": name}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"


def test_verbs_and_required_fields(client, api):
    _model(api, "v")
    # update is PATCH, delete is DELETE with a JSON body, search is GET only
    assert client.post("/api/2.0/mlflow/registered-models/update", json={"name": "v"}
                       ).status_code == 405
    assert client.post("/api/2.0/mlflow/registered-models/search", json={}).status_code == 405
    r = client.delete("/api/2.0/mlflow/registered-models/alias?name=v&alias=a")
    assert r.status_code == 400 and "'name'" in r.get_json()["message"]
    err = api.post("/registered-models/rename", {"name": "v"}, status=400)
    assert "new_name" in err["message"]
    err = api.post("/model-versions/create", {"name": "v"}, status=400)
    assert "source" in err["message"]
    # both the /api and /ajax-api trees answer
    r = client.get("/ajax-api/2.0/mlflow/registered-models/get", query_string={"name": "v"})
    assert r.status_code == 200


def test_versions_stages_aliases_and_tags(api, client):
    rid, info = _run_with_file(api, client)
    _model(api, "s")
    versions = []
    for _ in range(3):
        mv = api.post("/model-versions/create", {
            "name": "s", "source": f"runs:/{rid}/model", "run_id": rid,
            "tags": [{"key": "t", "value": "1"}], "description": "d"})["model_version"]
        versions.append(mv["version"])
    assert versions == ["1", "2", "3"]
    assert mv["status"] == "READY" and mv["current_stage"] == "None" and mv["run_id"] == rid
    uri = api.get("/model-versions/get-download-uri", {"name": "s", "version": "1"})
    assert uri["artifact_uri"] == info["artifact_uri"] + "/model"

    moved = api.post("/model-versions/transition-stage", {
        "name": "s", "version": "1", "stage": "production",
        "archive_existing_versions": False})["model_version"]
    assert moved["current_stage"] == "Production"
    api.post("/model-versions/transition-stage", {
        "name": "s", "version": "2", "stage": "Production", "archive_existing_versions": True})
    assert api.get("/model-versions/get", {"name": "s", "version": "1"})[
        "model_version"]["current_stage"] == "Archived"
    bad = api.post("/model-versions/transition-stage", {
        "name": "s", "version": "3", "stage": "Prod", "archive_existing_versions": False},
        status=400)
    assert "Staging" in bad["message"] and "Production" in bad["message"]
    latest = api.post("/registered-models/get-latest-versions",
                      {"name": "s", "stages": ["Production"]})["model_versions"]
    assert [v["version"] for v in latest] == ["2"]
    via_get = api.get("/registered-models/get-latest-versions",
                      {"name": "s", "stages": ["None", "Archived"]})["model_versions"]
    assert sorted(v["version"] for v in via_get) == ["1", "3"]
    rm = api.get("/registered-models/get", {"name": "s"})["registered_model"]
    assert sorted(v["version"] for v in rm["latest_versions"]) == ["1", "2", "3"]

    api.post("/registered-models/alias", {"name": "s", "alias": "champ", "version": "3"})
    by_alias = api.get("/registered-models/alias", {"name": "s", "alias": "champ"})
    assert by_alias["model_version"]["version"] == "3"
    assert by_alias["model_version"]["aliases"] == ["champ"]
    rm = api.get("/registered-models/get", {"name": "s"})["registered_model"]
    assert rm["aliases"] == [{"alias": "champ", "version": "3"}]
    for bad_alias in ("latest", "v1", "V2", "has space"):
        err = api.post("/registered-models/alias",
                       {"name": "s", "alias": bad_alias, "version": "1"}, status=400)
        assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    api.call("DELETE", "/registered-models/alias", {"name": "s", "alias": "champ"})
    api.get("/registered-models/alias", {"name": "s", "alias": "champ"}, status=404)

    api.post("/model-versions/set-tag", {"name": "s", "version": "1", "key": "k",
                                         "value": "v"})
    api.call("DELETE", "/model-versions/delete-tag", {"name": "s", "version": "1",
                                                      "key": "t"})
    tags = api.get("/model-versions/get", {"name": "s", "version": "1"})["model_version"]["tags"]
    assert tags == [{"key": "k", "value": "v"}]
    updated = api.call("PATCH", "/model-versions/update",
                       {"name": "s", "version": "1", "description": "new"})
    assert updated["model_version"]["description"] == "new"
    api.call("DELETE", "/model-versions/delete", {"name": "s", "version": "3"})
    err = api.get("/model-versions/get", {"name": "s", "version": "3"}, status=404)
    assert err["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.post("/model-versions/create", {"name": "s", "source": f"runs:/{rid}/model"}
                    )["model_version"]["version"] == "4"
    err = api.get("/model-versions/get", {"name": "s", "version": "x"}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    err = api.post("/model-versions/create", {"name": "nope", "source": f"runs:/{rid}/m"},
                   status=404)
    assert err["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_search(api, client):
    rid, _ = _run_with_file(api, client)
    for i in range(5):
        _model(api, f"model-{i}", tags=[{"key": "team", "value": "a" if i % 2 else "b"}])
        api.post("/model-versions/create", {"name": f"model-{i}",
                                            "source": f"runs:/{rid}/model"})
    first = api.get("/registered-models/search", {"max_results": 2})
    assert [m["name"] for m in first["registered_models"]] == ["model-0", "model-1"]
    rest = api.get("/registered-models/search",
                   {"max_results": 10, "page_token": first["next_page_token"]})
    assert [m["name"] for m in rest["registered_models"]] == ["model-2", "model-3", "model-4"]
    assert "next_page_token" not in rest
    found = api.get("/registered-models/search", {"filter": "tags.team = 'a'",
                                                  "order_by": ["name DESC"]})
    assert [m["name"] for m in found["registered_models"]] == ["model-3", "model-1"]
    err = api.get("/registered-models/search", {"max_results": 1001}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    err = api.get("/registered-models/search", {"filter": "name = 'x' OR name = 'y'"},
                  status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    assert api.get("/registered-models/search", {"filter": "name = 'none'"}) == {}
    versions = api.get("/model-versions/search", {"filter": f"run_id = '{rid}'",
                                                  "order_by": ["name ASC"]})
    assert [v["name"] for v in versions["model_versions"]] == [f"model-{i}" for i in range(5)]
    one = api.get("/model-versions/search", {"filter": "name = 'model-2'", "max_results": 1})
    assert [v["version"] for v in one["model_versions"]] == ["1"]
    err = api.get("/model-versions/search", {"max_results": 200001}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"


def test_logged_model_source_links_the_model(api):
    exp_id = api.experiment()
    rid = api.run(exp_id)
    model = api.post("/logged-models", {"experiment_id": exp_id, "name": "lm",
                                        "source_run_id": rid})["model"]["info"]
    model_id = model["model_id"]
    _model(api, "from-logged")
    mv = api.post("/model-versions/create", {"name": "from-logged",
                                             "source": f"models:/{model_id}",
                                             "model_id": model_id})["model_version"]
    assert mv["run_id"] == rid and mv["model_id"] == model_id
    mv2 = api.post("/model-versions/create", {"name": "from-logged",
                                              "source": f"models:/{model_id}"})["model_version"]
    assert mv2["model_id"] == model_id and mv2["run_id"] == rid
    tags = api.get(f"/logged-models/{model_id}")["model"]["info"]["tags"]
    links = json.loads({t["key"]: t["value"] for t in tags}["mlflow.modelVersions"])
    assert links == [{"name": "from-logged", "version": 1},
                     {"name": "from-logged", "version": 2}]
    uri = api.get("/model-versions/get-download-uri", {"name": "from-logged", "version": "1"})
    assert uri["artifact_uri"] == model["artifact_uri"]
    # a model_id that is not the source's logged model, or does not exist
    other = api.post("/logged-models", {"experiment_id": exp_id, "name": "other"})["model"][
        "info"]
    err = api.post("/model-versions/create", {"name": "from-logged",
                                              "source": f"models:/{model_id}",
                                              "model_id": other["model_id"]}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    err = api.post("/model-versions/create", {"name": "from-logged",
                                              "source": "models:/m-" + "0" * 32}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"
    # an artifact location inside the logged model is accepted with its model_id
    inside = api.post("/model-versions/create", {
        "name": "from-logged", "source": model["artifact_uri"] + "/sub",
        "model_id": model_id})["model_version"]
    assert inside["run_id"] == rid


def test_registered_version_as_source_keeps_lineage(api, client):
    rid, info = _run_with_file(api, client)
    _model(api, "a")
    api.post("/model-versions/create", {"name": "a", "source": f"runs:/{rid}/model"})
    api.post("/registered-models/alias", {"name": "a", "alias": "best", "version": "1"})
    _model(api, "b")
    mv = api.post("/model-versions/create", {"name": "b", "source": "models:/a@best"}
                  )["model_version"]
    assert mv["source"] == "models:/a/1" and mv["run_id"] == rid
    uri = api.get("/model-versions/get-download-uri", {"name": "b", "version": "1"})
    assert uri["artifact_uri"] == info["artifact_uri"] + "/model"
    err = api.post("/model-versions/create", {"name": "b", "source": "models:/a/1",
                                              "run_id": "f" * 32}, status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE"


def test_get_artifact_serves_version_files(api, client):
    rid, _ = _run_with_file(api, client, "flavors: {}\n")
    _model(api, "files")
    api.post("/model-versions/create", {"name": "files", "source": f"runs:/{rid}/model",
                                        "run_id": rid})
    r = client.get("/model-versions/get-artifact",
                   query_string={"name": "files", "version": "1", "path": "MLmodel"})
    assert r.status_code == 200 and r.data == b"flavors: {}\n"
    assert "attachment" in r.headers["Content-Disposition"]
    for bad in ("../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd",
                "%252e%252e/x", "a\\..\\..\\x"):
        r = client.get("/model-versions/get-artifact",
                       query_string={"name": "files", "version": "1", "path": bad})
        assert r.status_code == 400, bad
        assert r.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = client.get("/model-versions/get-artifact",
                   query_string={"name": "files", "version": "1", "path": "MLmodel",
                                 "presigned": "true"})
    assert r.status_code == 501


# -- source security -----------------------------------------------------------------------

def _refused(api, source, **extra):
    err = api.post("/model-versions/create", {"name": "sec", "source": source, **extra},
                   status=400)
    assert err["error_code"] == "INVALID_PARAMETER_VALUE", err
    return err


@pytest.fixture
def sec(api, tmp_path):
    _model(api, "sec")
    return api


@pytest.mark.parametrize("source", [
    "/etc",
    "/etc/passwd",
    "~/.ssh",
    "relative/dir",
    "file:///etc",
    "file://localhost/etc/passwd",
    "file://otherhost/share/model",
    "C:\\Windows\\System32",
])
def test_local_paths_outside_the_stores_are_refused(sec, source):
    err = _refused(sec, source)
    assert "Invalid model version source" in err["message"]


@pytest.mark.parametrize("template", [
    "{root}/../../etc",
    "{root}/x/../../../etc/passwd",
    "file://{root}/../../etc",
    "{root}/%2e%2e/%2e%2e/etc",
    "{root}/..%2f..%2fetc",
    "{root}/%252e%252e/%252e%252e/etc",
    "{root}/model%00.txt",
    "mlflow-artifacts:/1/../../../etc",
    "mlflow-artifacts://host:80/..%2f..%2f..%2fetc",
    "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/../../../../etc",
    "s3://bucket/models/../../other",
    "runs:/{run}/../../etc",
    "runs:/{run}/%2e%2e/%2e%2e/etc",
    "models:/sec/1/../../etc",
])
def test_traversal_in_any_form_is_refused(sec, template, tmp_path):
    root = str(tmp_path / "mlartifacts")
    run = "a" * 32
    _refused(sec, template.format(root=root, run=run))


@pytest.mark.parametrize("source", [
    "runs://evil-host/abc/model",
    "models://profile@databricks/m/1",
    "s3://someone-elses-bucket/model",
    "http://evil.example.com/model.tar.gz",
    "https://169.254.169.254/latest/meta-data",
    "gs://bucket/model",
])
def test_other_hosts_and_stores_are_refused(sec, source):
    _refused(sec, source)


def test_run_id_must_own_the_source(sec, client, tmp_path):
    rid, _ = _run_with_file(sec, client)
    other, _ = _run_with_file(sec, client)
    _refused(sec, f"runs:/{rid}/model", run_id=other)
    _refused(sec, "runs:/" + "e" * 32 + "/model")  # no such run
    _refused(sec, str(tmp_path / "elsewhere"), run_id=rid)
    _refused(sec, "/etc/passwd", run_id="f" * 32)


def test_sources_inside_the_stores_are_accepted(sec, make_app, tmp_path):
    destination = tmp_path / "mlartifacts"
    (destination / "1").mkdir(parents=True, exist_ok=True)
    ok = [str(destination / "1" / "model"), "file://" + str(destination / "2"),
          "mlflow-artifacts:/1/abc/artifacts/model",
          "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/m"]
    for source in ok:
        mv = sec.post("/model-versions/create", {"name": "sec", "source": source}
                      )["model_version"]
        assert mv["source"] == source


def test_symlink_out_of_the_store_is_refused(sec, tmp_path):
    destination = tmp_path / "mlartifacts"
    destination.mkdir(parents=True, exist_ok=True)
    os.symlink("/etc", destination / "link")
    _refused(sec, str(destination / "link"))
    _refused(sec, str(destination) + "2/model")  # a sibling sharing the prefix text


def test_default_artifact_root_is_a_store(make_app, tmp_path):
    client = make_app(default_artifact_root="s3://team-bucket/mlflow").test_client()
    base = "/api/2.0/mlflow"
    assert client.post(base + "/registered-models/create", json={"name": "root"}
                       ).status_code == 200
    ok = client.post(base + "/model-versions/create", json={
        "name": "root", "source": "s3://team-bucket/mlflow/1/x/artifacts/m"})
    assert ok.status_code == 200, ok.get_json()
    refused = client.post(base + "/model-versions/create", json={
        "name": "root", "source": "s3://team-bucket/other/m"})
    assert refused.status_code == 400
    assert refused.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_source_regex(sec, monkeypatch, client):
    rid, _ = _run_with_file(sec, client)
    monkeypatch.setenv("MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX", r"^models:/")
    _refused(sec, f"runs:/{rid}/model")


def test_get_artifact_rechecks_stored_locations(api, client, app):
    """A location written into the registry by someone else (not through this API) is
    still never read when it lies outside the server's stores."""
    _model(api, "planted")
    rid, _ = _run_with_file(api, client)
    api.post("/model-versions/create", {"name": "planted", "source": f"runs:/{rid}/model"})
    with app.app_context():
        from skiff_server.state import state

        store = state().registry_store
        store.locations[("planted", "1")] = "/etc"
    r = client.get("/model-versions/get-artifact",
                   query_string={"name": "planted", "version": "1", "path": "passwd"})
    assert r.status_code == 400 and r.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_registry_store_uri_defaults_and_option(make_app):
    app = make_app()
    with app.app_context():
        from skiff_server.state import state

        assert state().registry_store.store_uri == state().config.backend_store_uri
    app2 = make_app(registry_store_uri="memory://separate-registry")
    with app2.app_context():
        from skiff_server.state import state

        assert state().registry_store.store_uri == "memory://separate-registry"


def test_artifacts_only_turns_registry_off(make_app):
    client = make_app(artifacts_only=True).test_client()
    r = client.get("/api/2.0/mlflow/registered-models/search")
    assert r.status_code == 503
    r = client.get("/model-versions/get-artifact?name=a&version=1&path=x")
    assert r.status_code == 503


def test_prompt_clause_of_mlflow_clients(api):
    """MLflow clients add ``tag.`mlflow.prompt.is_prompt` != 'true'`` to every model search:
    models without the tag match it, prompts do not (unless asked for)."""
    _model(api, "plain")
    _model(api, "prompt", tags=[{"key": "mlflow.prompt.is_prompt", "value": "true"}])
    clause = "tag.`mlflow.prompt.is_prompt` != 'true'"
    for filter_string, expected in [
        (clause, ["plain"]),
        (f"name = 'plain' AND {clause}", ["plain"]),
        ("tags.`mlflow.prompt.is_prompt` = 'false'", ["plain"]),
        ("tags.`mlflow.prompt.is_prompt` = 'true'", ["prompt"]),
        ("", ["plain"]),
    ]:
        found = api.get("/registered-models/search", {"filter": filter_string} if filter_string
                        else {"max_results": 100})
        assert [m["name"] for m in found.get("registered_models", [])] == expected, filter_string


@pytest.mark.parametrize("var", ["SKIFF_REGISTRY_STORE_URI", "MLFLOW_REGISTRY_STORE_URI"])
def test_registry_store_uri_from_the_environment(monkeypatch, var):
    from skiff_server.cli import server
    from skiff_server.config import CONFIG_ENV_VAR, ServerConfig

    for name in ("SKIFF_REGISTRY_STORE_URI", "MLFLOW_REGISTRY_STORE_URI", CONFIG_ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(var, "sqlite:///registry.db")
    assert ServerConfig.from_env().registry_store_uri == "sqlite:///registry.db"
    ctx = server.make_context("server", [])
    assert ctx.params["registry_store_uri"] == "sqlite:///registry.db"
    ctx = server.make_context("server", ["--registry-store-uri", "memory://x"])
    assert ctx.params["registry_store_uri"] == "memory://x"


def test_static_prefix_covers_registry_routes(make_app):
    client = make_app(static_prefix="/skiff").test_client()
    r = client.post("/skiff/api/2.0/mlflow/registered-models/create", json={"name": "p"})
    assert r.status_code == 200
    r = client.get("/skiff/ajax-api/2.0/mlflow/registered-models/get?name=p")
    assert r.get_json()["registered_model"]["name"] == "p"
    r = client.get("/skiff/model-versions/get-artifact?name=p&version=1&path=x")
    assert r.status_code == 404 and r.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert client.get("/api/2.0/mlflow/registered-models/get?name=p").status_code == 404
