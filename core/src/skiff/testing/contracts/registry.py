"""The registry store contract: subclass ``RegistryStoreContract`` and provide a
``registry_store`` fixture returning a fresh, empty store."""

from __future__ import annotations

import time

import pytest

from skiff.entities import RunTag
from skiff.errors import SkiffException


def _code(excinfo) -> str:
    return excinfo.value.error_code


class RegistryStoreContract:
    # -- registered models ------------------------------------------------------------------
    def test_create_get_and_duplicate(self, registry_store):
        rm = registry_store.create_registered_model("m1", [RunTag("k", "v")], "desc")
        assert rm.name == "m1" and rm.tags == {"k": "v"} and rm.description == "desc"
        got = registry_store.get_registered_model("m1")
        assert got.creation_timestamp and got.tags == {"k": "v"}
        with pytest.raises(SkiffException) as err:
            registry_store.create_registered_model("m1")
        assert _code(err) == "RESOURCE_ALREADY_EXISTS"
        with pytest.raises(SkiffException) as err:
            registry_store.get_registered_model("nope")
        assert _code(err) == "RESOURCE_DOES_NOT_EXIST"

    @pytest.mark.parametrize("name", ["", "a/b", "a:b", "a\x00b", "n" * 300])
    def test_invalid_names(self, registry_store, name):
        with pytest.raises(SkiffException) as err:
            registry_store.create_registered_model(name)
        assert _code(err) == "INVALID_PARAMETER_VALUE"
        registry_store.create_registered_model("kept")
        with pytest.raises(SkiffException) as err:
            registry_store.rename_registered_model("kept", name)
        assert _code(err) == "INVALID_PARAMETER_VALUE"
        assert registry_store.get_registered_model("kept").name == "kept"

    def test_update_and_rename_carries_versions(self, registry_store):
        registry_store.create_registered_model("old")
        registry_store.create_model_version("old", "runs:/abc/model", "abc")
        registry_store.update_registered_model("old", "new description")
        renamed = registry_store.rename_registered_model("old", "new")
        assert renamed.name == "new"
        assert registry_store.get_registered_model("new").description == "new description"
        assert registry_store.get_model_version("new", "1").name == "new"
        with pytest.raises(SkiffException):
            registry_store.get_registered_model("old")
        registry_store.create_registered_model("taken")
        with pytest.raises(SkiffException) as err:
            registry_store.rename_registered_model("new", "taken")
        assert _code(err) == "RESOURCE_ALREADY_EXISTS"

    def test_delete_removes_versions_tags_and_aliases(self, registry_store):
        registry_store.create_registered_model("gone", [RunTag("t", "1")])
        registry_store.create_model_version("gone", "runs:/r/m", "r")
        registry_store.set_registered_model_alias("gone", "champ", "1")
        registry_store.delete_registered_model("gone")
        with pytest.raises(SkiffException):
            registry_store.get_registered_model("gone")
        with pytest.raises(SkiffException):
            registry_store.get_model_version("gone", "1")
        registry_store.create_registered_model("gone")
        assert registry_store.get_registered_model("gone").tags == {}
        assert registry_store.get_registered_model("gone").aliases == {}
        assert registry_store.create_model_version("gone", "runs:/r/m").version == "1"

    def test_registered_model_tags(self, registry_store):
        registry_store.create_registered_model("t")
        registry_store.set_registered_model_tag("t", RunTag("a", "1"))
        registry_store.set_registered_model_tag("t", RunTag("a", "2"))
        assert registry_store.get_registered_model("t").tags == {"a": "2"}
        registry_store.delete_registered_model_tag("t", "a")
        assert registry_store.get_registered_model("t").tags == {}

    # -- versions ------------------------------------------------------------------------------
    def test_versions_are_max_plus_one_and_never_reused(self, registry_store):
        registry_store.create_registered_model("v")
        versions = [registry_store.create_model_version("v", f"runs:/r{i}/m", f"r{i}").version
                    for i in range(3)]
        assert versions == ["1", "2", "3"]
        registry_store.delete_model_version("v", "3")
        assert registry_store.create_model_version("v", "runs:/r/m").version == "4"
        with pytest.raises(SkiffException) as err:
            registry_store.get_model_version("v", "3")
        assert _code(err) == "RESOURCE_DOES_NOT_EXIST"
        with pytest.raises(SkiffException) as err:
            registry_store.create_model_version("missing-model", "runs:/r/m")
        assert _code(err) == "RESOURCE_DOES_NOT_EXIST"

    def test_version_fields_and_lineage(self, registry_store):
        registry_store.create_registered_model("lin")
        mv = registry_store.create_model_version(
            "lin", "runs:/0123/model", "0123", [RunTag("k", "v")], "http://link", "d")
        assert mv.status == "READY" and mv.current_stage == "None"
        got = registry_store.get_model_version("lin", "1")
        assert (got.run_id, got.source, got.run_link, got.description, got.tags) == (
            "0123", "runs:/0123/model", "http://link", "d", {"k": "v"})
        registry_store.update_model_version("lin", "1", "changed")
        assert registry_store.get_model_version("lin", "1").description == "changed"
        assert registry_store.get_model_version_download_uri("lin", "1")

    def test_stage_transitions_and_latest_versions(self, registry_store):
        registry_store.create_registered_model("s")
        for _ in range(3):
            registry_store.create_model_version("s", "runs:/r/m")
        registry_store.transition_model_version_stage("s", "1", "production", False)
        registry_store.transition_model_version_stage("s", "2", "Production", True)
        assert registry_store.get_model_version("s", "1").current_stage == "Archived"
        assert registry_store.get_model_version("s", "2").current_stage == "Production"
        latest = {mv.current_stage: mv.version for mv in registry_store.get_latest_versions("s")}
        assert latest == {"None": "3", "Production": "2", "Archived": "1"}
        assert [mv.version for mv in registry_store.get_latest_versions("s", ["Production"])] == ["2"]
        rm = registry_store.get_registered_model("s")
        assert {mv.version for mv in rm.latest_versions} == {"1", "2", "3"}
        with pytest.raises(SkiffException) as err:
            registry_store.transition_model_version_stage("s", "3", "Prod", False)
        assert "Staging" in err.value.message and "Production" in err.value.message

    def test_model_version_tags(self, registry_store):
        registry_store.create_registered_model("mt")
        registry_store.create_model_version("mt", "runs:/r/m")
        registry_store.set_model_version_tag("mt", "1", RunTag("a", "1"))
        assert registry_store.get_model_version("mt", "1").tags == {"a": "1"}
        registry_store.delete_model_version_tag("mt", "1", "a")
        assert registry_store.get_model_version("mt", "1").tags == {}

    # -- aliases ----------------------------------------------------------------------------------
    def test_aliases(self, registry_store):
        registry_store.create_registered_model("al")
        registry_store.create_model_version("al", "runs:/r/m")
        registry_store.create_model_version("al", "runs:/r/m")
        registry_store.set_registered_model_alias("al", "champion", "1")
        registry_store.set_registered_model_alias("al", "champion", "2")  # moves
        assert registry_store.get_model_version_by_alias("al", "champion").version == "2"
        assert registry_store.get_registered_model("al").aliases == {"champion": "2"}
        assert registry_store.get_model_version("al", "2").aliases == ["champion"]
        registry_store.delete_model_version("al", "2")
        assert registry_store.get_registered_model("al").aliases == {}
        with pytest.raises(SkiffException) as err:
            registry_store.get_model_version_by_alias("al", "champion")
        assert _code(err) == "RESOURCE_DOES_NOT_EXIST"
        for bad in ("latest", "v1", "V2", "has space"):
            with pytest.raises(SkiffException) as err:
                registry_store.set_registered_model_alias("al", bad, "1")
            assert _code(err) == "INVALID_PARAMETER_VALUE"

    # -- search -------------------------------------------------------------------------------------
    def test_search_registered_models(self, registry_store):
        for i in range(5):
            registry_store.create_registered_model(f"model-{i}", [RunTag("team", "a" if i % 2 else "b")])
            time.sleep(0.002)
        page = registry_store.search_registered_models(max_results=2)
        assert [m.name for m in page] == ["model-0", "model-1"] and page.token
        rest = registry_store.search_registered_models(max_results=10, page_token=page.token)
        assert [m.name for m in rest] == ["model-2", "model-3", "model-4"] and not rest.token
        found = registry_store.search_registered_models("name LIKE 'model-%' and tags.team = 'a'")
        assert [m.name for m in found] == ["model-1", "model-3"]
        ordered = registry_store.search_registered_models(order_by=["name DESC"])
        assert ordered[0].name == "model-4"
        assert [m.name for m in registry_store.search_registered_models("name = 'model-2'")] == [
            "model-2"]

    def test_search_model_versions(self, registry_store):
        registry_store.create_registered_model("a")
        registry_store.create_registered_model("b")
        registry_store.create_model_version("a", "runs:/r1/m", "r1")
        registry_store.create_model_version("a", "runs:/r2/m", "r2", [RunTag("q", "x")])
        registry_store.create_model_version("b", "runs:/r1/m", "r1")
        assert {(v.name, v.version) for v in registry_store.search_model_versions("name = 'a'")} == {
            ("a", "1"), ("a", "2")}
        found = registry_store.search_model_versions("run_id IN ('r1')")
        assert {(v.name, v.version) for v in found} == {("a", "1"), ("b", "1")}
        assert [v.version for v in registry_store.search_model_versions("tags.q = 'x'")] == ["2"]
        ordered = registry_store.search_model_versions(
            "name = 'a'", order_by=["version_number DESC"])
        assert [v.version for v in ordered] == ["2", "1"]

    def test_copy_model_version_keeps_lineage(self, registry_store):
        registry_store.create_registered_model("src")
        src = registry_store.create_model_version("src", "runs:/r9/m", "r9")
        copied = registry_store.copy_model_version(src, "dst")
        assert copied.name == "dst" and copied.version == "1" and copied.run_id == "r9"
