"""Each registered model's and model version's tags-and-aliases document
(``tags_aliases``) stays in step with the tag and alias tables through every write, falls
back to the tables when too long or missing, and is built for existing models and
versions by the migration that adds it; on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json

import conftest
import pytest
import sqlalchemy as sa

from skiff.entities import RunTag
from skiff.errors import SkiffException
from skiff_stores_sql import _registry_docs
from skiff_stores_sql import schema as t
from skiff_stores_sql._registry import SqlRegistryStore
from skiff_stores_sql.engine import get_engine, normalize_url
from skiff_stores_sql.schema_version import upgrade


def _model_document(store, name):
    with store.engine.connect() as conn:
        text = conn.execute(sa.select(t.registered_models.c.tags_aliases)
                            .where(t.registered_models.c.name == name)).scalar_one()
    return None if text is None else json.loads(text)


def _version_document(store, name, version):
    mv = t.model_versions
    with store.engine.connect() as conn:
        text = conn.execute(sa.select(mv.c.tags_aliases).where(
            mv.c.name == name, mv.c.version == int(version))).scalar_one()
    return None if text is None else json.loads(text)


def _from_tables(store, name):
    """(the model's document, {version: its document}) as the tables say they should be."""
    mt, vt, al, mv = (t.registered_model_tags, t.model_version_tags,
                      t.registered_model_aliases, t.model_versions)
    with store.engine.connect() as conn:
        model_tags = dict(conn.execute(sa.select(mt.c.key, mt.c.value).where(mt.c.name == name))
                          .all())
        aliases = dict(conn.execute(sa.select(al.c.alias, al.c.version).where(al.c.name == name))
                       .all())
        versions = {}
        for (version,) in conn.execute(sa.select(mv.c.version).where(mv.c.name == name)):
            tags = dict(conn.execute(sa.select(vt.c.key, vt.c.value).where(
                vt.c.name == name, vt.c.version == version)).all())
            versions[version] = {"aliases": sorted(a for a, v in aliases.items() if v == version),
                                 "tags": tags}
    return {"aliases": {a: str(v) for a, v in aliases.items()}, "tags": model_tags}, versions


def _assert_in_step(store, name):
    model, versions = _from_tables(store, name)
    assert _model_document(store, name) == model
    assert {v: _version_document(store, name, v) for v in versions} == versions


def test_every_write_keeps_the_documents_and_the_tables_in_step(db_uri):
    store = SqlRegistryStore(db_uri)
    store.create_registered_model("m", [RunTag("team", "core")])
    _assert_in_step(store, "m")
    for i in range(3):
        store.create_model_version("m", f"s3://b/m/{i}", tags=[RunTag("v", str(i))])
    steps = [
        lambda: store.set_registered_model_tag("m", RunTag("team", "edge")),  # overwritten
        lambda: store.set_registered_model_tag("m", RunTag("ünïcode", "välue \"q\"")),
        lambda: store.delete_registered_model_tag("m", "team"),
        lambda: store.delete_registered_model_tag("m", "absent"),  # nothing to delete
        lambda: store.set_model_version_tag("m", "2", RunTag("validated", "true")),
        lambda: store.delete_model_version_tag("m", "1", "v"),
        lambda: store.set_registered_model_alias("m", "champion", "1"),
        lambda: store.set_registered_model_alias("m", "best", "1"),
        lambda: store.set_registered_model_alias("m", "champion", "2"),  # moves off 1
        lambda: store.delete_registered_model_alias("m", "best"),
        lambda: store.delete_registered_model_alias("m", "absent"),
        lambda: store.set_registered_model_alias("m", "old", "3"),
        lambda: store.delete_model_version("m", "3"),  # takes its alias with it
        lambda: store.transition_model_version_stage("m", "2", "Production", True),
        lambda: store.update_model_version("m", "2", "described"),
    ]
    for step in steps:
        step()
        _assert_in_step(store, "m")
    model = store.get_registered_model("m")
    assert model.tags == {"ünïcode": "välue \"q\""}
    assert model.aliases == {"champion": "2"}
    two = store.get_model_version("m", "2")
    assert two.tags == {"v": "1", "validated": "true"} and two.aliases == ["champion"]
    assert store.get_model_version("m", "1").tags == {}
    store.rename_registered_model("m", "renamed")
    _assert_in_step(store, "renamed")
    assert store.get_model_version_by_alias("renamed", "champion").aliases == ["champion"]
    found = store.search_model_versions("name = 'renamed'")
    assert {mv.version: (mv.tags, mv.aliases) for mv in found} == {
        "1": ({}, []), "2": ({"v": "1", "validated": "true"}, ["champion"])}
    [listed] = store.search_registered_models("name = 'renamed'")
    assert listed.aliases == {"champion": "2"} and listed.tags == model.tags
    assert [(mv.version, mv.tags) for mv in listed.latest_versions] == [
        ("1", {}), ("2", {"v": "1", "validated": "true"})]


def test_a_refused_write_leaves_the_documents_as_they_were(db_uri):
    store = SqlRegistryStore(db_uri)
    store.create_registered_model("m", [RunTag("team", "core")])
    store.create_model_version("m", "s3://b/m/1")
    before = _from_tables(store, "m")
    with pytest.raises(SkiffException):
        store.set_registered_model_alias("m", "champion", "7")  # no such version
    with pytest.raises(SkiffException):
        store.delete_model_version_tag("m", "7", "v")
    with pytest.raises(SkiffException) as error:
        store.delete_model_version_tag("absent", "1", "v")
    assert "Model Version (name=absent, version=1) not found" in error.value.message
    assert _from_tables(store, "m") == before
    _assert_in_step(store, "m")


def test_documents_too_long_or_missing_fall_back_to_the_tables(db_uri):
    store = SqlRegistryStore(db_uri)
    big = [RunTag(f"k{i}", "x" * 5000) for i in range(_registry_docs.MAX_CHARS // 5000 + 1)]
    store.create_registered_model("big", big)
    store.create_model_version("big", "s3://b/big/1", tags=big)
    store.set_registered_model_alias("big", "champion", "1")
    assert _model_document(store, "big") is None
    assert _version_document(store, "big", 1) is None
    store.create_registered_model("plain", [RunTag("team", "core")])
    store.create_model_version("plain", "s3://b/plain/1", tags=[RunTag("v", "1")])
    # a row written without a document (straight into the tables) reads the tables too
    with store.engine.begin() as conn:
        conn.execute(t.model_versions.update().where(t.model_versions.c.name == "plain")
                     .values(tags_aliases=None))
    expected_tags = {tag.key: tag.value for tag in big}
    models = {m.name: m for m in store.search_registered_models()}
    assert models["big"].tags == expected_tags and models["big"].aliases == {"champion": "1"}
    assert models["big"].latest_versions[0].tags == expected_tags
    assert models["big"].latest_versions[0].aliases == ["champion"]
    assert models["plain"].latest_versions[0].tags == {"v": "1"}
    versions = {mv.name: mv for mv in store.search_model_versions()}
    assert versions["big"].tags == expected_tags and versions["big"].aliases == ["champion"]
    assert versions["plain"].tags == {"v": "1"}
    assert store.get_model_version("plain", "1").tags == {"v": "1"}


def test_the_migration_builds_documents_of_existing_models(db_uri):
    assert upgrade(db_uri, "0010") == "0010"
    quote = "`" if db_uri.startswith("mysql") else '"'
    with get_engine(normalize_url(db_uri)).begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO registered_models (name, creation_timestamp, last_updated_timestamp, "
            "last_version) VALUES ('m', 1, 1, 2), ('bare', 1, 1, 0)"))
        conn.execute(sa.text(
            "INSERT INTO model_versions (name, version, creation_timestamp, "
            "last_updated_timestamp, current_stage, source, status) VALUES "
            "('m', 1, 1, 1, 'None', 's3://b/1', 'READY'), "
            "('m', 2, 2, 2, 'None', 's3://b/2', 'READY')"))
        conn.execute(sa.text(
            f"INSERT INTO registered_model_tags (name, {quote}key{quote}, value) "
            "VALUES ('m', 'team', 'core')"))
        conn.execute(sa.text(
            f"INSERT INTO model_version_tags (name, version, {quote}key{quote}, value) "
            "VALUES ('m', 2, 'validated', 'true')"))
        conn.execute(sa.text(
            "INSERT INTO registered_model_aliases (name, alias, version) "
            "VALUES ('m', 'champion', 2)"))
    upgrade(db_uri)
    store = SqlRegistryStore(db_uri)
    assert _model_document(store, "m") == {"aliases": {"champion": "2"},
                                           "tags": {"team": "core"}}
    assert _model_document(store, "bare") == {"aliases": {}, "tags": {}}
    assert _version_document(store, "m", 1) == {"aliases": [], "tags": {}}
    assert _version_document(store, "m", 2) == {"aliases": ["champion"],
                                                "tags": {"validated": "true"}}
    assert store.get_model_version("m", "2").aliases == ["champion"]


def test_writers_of_one_model_at_once_lose_nothing(db_uri):
    # each writer locks the model's row first, so every rebuild sees the others' writes
    store = SqlRegistryStore(db_uri)
    store.create_registered_model("m")
    for i in range(2):
        store.create_model_version("m", f"s3://b/m/{i}")

    def writer(n):
        for i in range(15):
            if i % 3 == 0:
                store.set_registered_model_tag("m", RunTag(f"m{n}-{i}", str(i)))
            elif i % 3 == 1:
                store.set_model_version_tag("m", str(1 + n % 2), RunTag(f"v{n}-{i}", "x"))
            else:
                store.set_registered_model_alias("m", f"a{n}-{i}", str(1 + i % 2))

    assert conftest.run_writers(writer) == []
    _assert_in_step(store, "m")
    model, versions = _from_tables(store, "m")
    assert len(model["tags"]) == 20 and len(model["aliases"]) == 20
    assert sum(len(v["tags"]) for v in versions.values()) == 20
