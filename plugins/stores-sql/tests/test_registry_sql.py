"""What the SQL registry adds beyond the contract: download URIs resolved through the
tracking data in the same database, ``skiff.Client`` end to end, all-or-nothing deletes,
keyset paging, prompts hidden from searches, and search speed over 10,000 tagged models."""

import time

import pytest
import sqlalchemy as sa

import skiff
from skiff.entities import RunTag
from skiff.errors import SkiffException


def _store(uri):
    from skiff_stores_sql._registry import SqlRegistryStore

    return SqlRegistryStore(uri, uri)


def test_client_end_to_end_on_sqlite(sqlite_uri, tmp_path):
    from skiff.tracking._stores import clear_store_cache

    clear_store_cache()
    client = skiff.Client(sqlite_uri)
    from skiff.tracking._stores import get_registry_store

    # No registry URI set: the registry is the client's tracking database.
    assert type(get_registry_store(None, sqlite_uri)).__name__ == "SqlRegistryStore"
    exp_id = client.create_experiment("e", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(exp_id)
    run_id = run.info.run_id
    client.create_registered_model("m", tags={"team": "a"}, description="first")
    mv = client.create_model_version("m", f"runs:/{run_id}/model", run_id)
    assert mv.version == "1" and mv.run_id == run_id
    assert client.get_model_version_download_uri("m", "1") == run.info.artifact_uri + "/model"

    logged = client.create_logged_model(exp_id, name="lm", source_run_id=run_id)
    mv2 = client.create_model_version("m", f"models:/{logged.model_id}")
    assert mv2.version == "2" and mv2.model_id == logged.model_id and mv2.run_id == run_id
    assert client.get_model_version_download_uri("m", "2") == logged.artifact_location

    client.set_registered_model_alias("m", "champion", "2")
    client.transition_model_version_stage("m", "1", "Staging")
    client.rename_registered_model("m", "renamed")
    rm = client.get_registered_model("renamed")
    assert rm.tags == {"team": "a"} and rm.aliases == {"champion": "2"}
    assert {v.current_stage: v.version for v in rm.latest_versions} == {
        "Staging": "1", "None": "2"}
    assert client.get_model_version_by_alias("renamed", "champion").model_id == logged.model_id
    # A version registered from another registered version downloads from the same place.
    client.create_registered_model("copy")
    mv3 = client.create_model_version("copy", "models:/renamed@champion")
    assert client.get_model_version_download_uri("copy", mv3.version) == (
        logged.artifact_location)
    assert [m.name for m in client.search_registered_models("tags.team = 'a'")] == ["renamed"]
    assert {(v.name, v.version) for v in client.search_model_versions(
        f"run_id = '{run_id}'")} == {("renamed", "1"), ("renamed", "2")}
    client.delete_registered_model("renamed")
    assert client.search_model_versions("name = 'renamed'") == []
    clear_store_cache()


def test_registry_only_database_gets_no_default_experiment(sqlite_uri):
    store = _store(sqlite_uri)
    store.create_registered_model("m")
    store.create_model_version("m", "runs:/unknown/model")
    assert store.get_model_version_download_uri("m", "1") == "runs:/unknown/model"
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM experiments")).scalar() == 0


def test_delete_is_all_or_nothing(db_uri, monkeypatch):
    from skiff_stores_sql import schema

    store = _store(db_uri)
    store.create_registered_model("m", [RunTag("t", "1")])
    store.create_model_version("m", "runs:/r/m", "r", [RunTag("vt", "x")])
    store.set_registered_model_alias("m", "champ", "1")
    missing = sa.Table("no_such_table", sa.MetaData(), sa.Column("name", sa.String(10)))
    # The model row would go last; make that step fail after the others have run.
    monkeypatch.setattr(schema, "REGISTRY_TABLES", schema.REGISTRY_TABLES[:-1] + (missing,))
    with pytest.raises(sa.exc.DBAPIError):
        store.delete_registered_model("m")
    monkeypatch.undo()
    rm = store.get_registered_model("m")
    assert rm.tags == {"t": "1"} and rm.aliases == {"champ": "1"}
    assert store.get_model_version("m", "1").tags == {"vt": "x"}


def test_paging_prompts_and_bad_input(db_uri):
    store = _store(db_uri)
    for i in range(7):
        store.create_registered_model(f"m{i}")
        store.create_model_version(f"m{i}", "runs:/r/m", "r")
    store.create_registered_model("p", [RunTag("mlflow.prompt.is_prompt", "true")])
    names, token = [], None
    while True:
        page = store.search_registered_models(max_results=3, page_token=token)
        names += [m.name for m in page]
        token = page.token
        if not token:
            break
    assert names == [f"m{i}" for i in range(7)]
    assert [m.name for m in store.search_registered_models(
        "tags.`mlflow.prompt.is_prompt` = 'true'")] == ["p"]
    seen, token = [], None
    while True:
        page = store.search_model_versions(max_results=2, page_token=token,
                                           order_by=["name DESC"])
        seen += [v.name for v in page]
        token = page.token
        if not token:
            break
    assert seen == [f"m{i}" for i in reversed(range(7))]
    assert [v.name for v in store.search_model_versions("version_number >= '1' AND "
                                                        "name IN ('m1', 'm2')")] != []
    long_value = "x" * 100_000  # MLflow's limit for registry tag values
    store.set_registered_model_tag("m1", RunTag("long", long_value))
    store.set_model_version_tag("m1", "1", RunTag("long", long_value))
    assert store.get_registered_model("m1").tags["long"] == long_value
    assert store.get_model_version("m1", "1").tags["long"] == long_value
    for call, code in [
        (lambda: store.create_registered_model("n" * 300), "INVALID_PARAMETER_VALUE"),
        (lambda: store.create_model_version("m1", "s3://b/" + "k" * 3000),
         "INVALID_PARAMETER_VALUE"),
        (lambda: store.get_model_version("m1", "9"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: store.get_model_version("m1", "x"), "INVALID_PARAMETER_VALUE"),
        (lambda: store.get_model_version_by_alias("m1", "nope"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: store.set_registered_model_alias("m1", "a", "5"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: store.search_registered_models(page_token="bad"), "INVALID_PARAMETER_VALUE"),
        (lambda: store.search_registered_models("bogus = 1"), "INVALID_PARAMETER_VALUE"),
        (lambda: store.search_model_versions(max_results=0), "INVALID_PARAMETER_VALUE"),
    ]:
        with pytest.raises(SkiffException) as err:
            call()
        assert err.value.error_code == code


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_search_over_ten_thousand_tagged_models_is_fast(backend, request):
    from skiff_stores_sql import schema as t

    store = _store(request.getfixturevalue(f"{backend}_uri"))
    n = 10_000
    models = [{"name": f"model-{i:05d}", "creation_timestamp": i, "last_updated_timestamp": i,
               "description": None, "user_id": None, "last_version": 2} for i in range(n)]
    tags = [{"name": f"model-{i:05d}", "key": k, "value": f"{k}-{i % 10}"}
            for i in range(n) for k in ("team", "stage")]
    versions = [{"name": f"model-{i:05d}", "version": v, "creation_timestamp": i,
                 "last_updated_timestamp": i * 10 + v, "current_stage": "None",
                 "source": "runs:/r/m", "run_id": f"run-{i % 100}", "status": "READY"}
                for i in range(n) for v in (1, 2)]
    vtags = [{"name": d["name"], "version": d["version"], "key": "q", "value": str(i % 7)}
             for i, d in enumerate(versions)]
    with store.engine.begin() as conn:
        for table, rows in ((t.registered_models, models), (t.registered_model_tags, tags),
                            (t.model_versions, versions), (t.model_version_tags, vtags)):
            conn.execute(table.insert(), rows)
    started = time.perf_counter()
    page = store.search_registered_models("tags.team = 'team-3' AND name LIKE 'model-%'",
                                          max_results=100)
    assert len(page) == 100 and page.token
    assert all(m.tags["team"] == "team-3" for m in page)
    page = store.search_registered_models(order_by=["last_updated_timestamp DESC"],
                                          max_results=1000)
    assert page[0].name == "model-09999" and len(page[0].latest_versions) == 1
    found = store.search_model_versions("tags.q = '3' AND run_id = 'run-7'", max_results=500)
    assert found and all(v.tags["q"] == "3" and v.run_id == "run-7" for v in found)
    recent = store.search_model_versions(max_results=100)
    assert (recent[0].name, recent[0].version) == ("model-09999", "2")
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, elapsed


def test_concurrent_version_creation_hands_out_each_number_once(db_uri):
    from concurrent.futures import ThreadPoolExecutor

    store = _store(db_uri)
    store.create_registered_model("c")
    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(
            lambda i: store.create_model_version("c", f"runs:/r{i}/m").version, range(20)))
    assert sorted(int(v) for v in versions) == list(range(1, 21))


def _all_pages(search, size, **kwargs):
    found, token = [], None
    while True:
        page = search(max_results=size, page_token=token, **kwargs)
        found += page
        token = page.token
        if not token:
            return found


def test_keyset_pages_match_one_page_in_every_order(db_uri):
    """Tied timestamps included; with an order_by, ties break as MLflow's do (name ASC,
    then version DESC), without one newest change first."""
    from skiff_stores_sql import schema as t

    store = _store(db_uri)
    for i in range(6):
        store.create_registered_model(f"m{i}")
        for _ in range(1 + i % 3):
            store.create_model_version(f"m{i}", "runs:/r/m", "r")
    with store.engine.begin() as conn:  # three distinct times only: many ties
        for table in (t.registered_models, t.model_versions):
            for i in range(6):
                conn.execute(table.update().where(table.c.name == f"m{i}").values(
                    last_updated_timestamp=1000 * (i % 3), creation_timestamp=7))
        conn.execute(t.model_versions.update().where(t.model_versions.c.version == 1)
                     .values(last_updated_timestamp=5000))  # first versions changed last
    for order in (None, ["name DESC"], ["last_updated_timestamp DESC"],
                  ["last_updated_timestamp ASC"], ["creation_timestamp DESC"]):
        whole = [m.name for m in store.search_registered_models(order_by=order)]
        assert [m.name for m in _all_pages(store.search_registered_models, 2,
                                           order_by=order)] == whole, order
    for order in (None, ["name ASC"], ["last_updated_timestamp DESC"],
                  ["version_number ASC"], ["creation_timestamp ASC"]):
        whole = [(v.name, v.version) for v in store.search_model_versions(order_by=order)]
        assert [(v.name, v.version) for v in _all_pages(store.search_model_versions, 2,
                                                        order_by=order)] == whole, order
    by_name = [(v.name, v.version) for v in store.search_model_versions(order_by=["name"])]
    assert by_name[:4] == [("m0", "1"), ("m1", "2"), ("m1", "1"), ("m2", "3")]
    newest = [(v.name, v.version) for v in store.search_model_versions()]
    assert newest[:8] == [(f"m{i}", "1") for i in range(6)] + [("m2", "3"), ("m2", "2")]


def test_pages_run_as_driver_sql_with_the_same_rows_as_sqlalchemy(db_uri):
    """Built page statements run as driver SQL (``PageStatements.rows``); lists rendered
    per call (IN) and offset tokens take SQLAlchemy's path. Both give the same pages."""
    from skiff.search.paging import encode_token
    from skiff_stores_sql import _registry_search, _search

    store = _store(db_uri)
    for i in range(5):
        store.create_registered_model(f"m{i}", [RunTag("team", "a" if i % 2 else "b")])
        for _ in range(1 + i % 3):
            store.create_model_version(f"m{i}", "runs:/r/m", "r", [RunTag("k", f"v{i}")])
    cases = [(None, None), ("name LIKE 'm%'", ["name ASC"]), ("tags.k = 'v2'", None),
             ("run_id IN ('r', 'x')", ["last_updated_timestamp DESC"])]
    for filter_string, order_by in cases:
        pages = _registry_search.model_version_search(filter_string, order_by)
        whole = [(v.name, v.version, v.tags) for v in store.search_model_versions(
            filter_string, order_by=order_by)]
        assert [(v.name, v.version, v.tags) for v in _all_pages(
            store.search_model_versions, 2, filter_string=filter_string,
            order_by=order_by)] == whole
        with store.engine.connect() as conn:
            stmt, params, _built = pages._page(None, 2)
            by_sqlalchemy = _search.split_page(conn.execute(stmt, params).all(), 2,
                                               len(pages.keys))
            rows, token = pages.rows(conn, None, 2)
            assert [tuple(r) for r in by_sqlalchemy[0]] == [tuple(r) for r in rows]
            assert by_sqlalchemy[1] == token
        rendered = list(pages._rendered.values())
        assert (rendered[0] is None) == ("IN" in (filter_string or "")) or \
            db_uri.startswith("mysql"), filter_string  # PyMySQL: always SQLAlchemy's
    offset = store.search_model_versions(max_results=2, page_token=encode_token({"offset": 3}))
    assert [(v.name, v.version) for v in offset] == [
        (v.name, v.version) for v in store.search_model_versions()][3:5]
    models = [m.name for m in _all_pages(store.search_registered_models, 2,
                                         filter_string="tags.team = 'a'")]
    assert models == ["m1", "m3"]


def test_pages_larger_than_one_in_list_keep_every_tag_and_alias(db_uri):
    """Tags, aliases and latest versions are read in chunks of names (padded IN lists, or
    one array on PostgreSQL): a 300-model page spans two chunks."""
    from skiff_stores_sql import _registry_rows
    from skiff_stores_sql import schema as t

    store = _store(db_uri)
    n = _registry_rows.CHUNK + 44
    names = [f"m{i:04d}" for i in range(n)]
    with store.engine.begin() as conn:
        conn.execute(t.registered_models.insert(), [
            {"name": name, "creation_timestamp": i, "last_updated_timestamp": i,
             "last_version": 1} for i, name in enumerate(names)])
        conn.execute(t.registered_model_tags.insert(), [
            {"name": name, "key": "i", "value": str(i)} for i, name in enumerate(names)])
        conn.execute(t.model_versions.insert(), [
            {"name": name, "version": 1, "creation_timestamp": i, "last_updated_timestamp": i,
             "current_stage": "None", "source": "s3://b/m", "status": "READY"}
            for i, name in enumerate(names)])
        conn.execute(t.model_version_tags.insert(), [
            {"name": name, "version": 1, "key": "v", "value": name} for name in names])
        conn.execute(t.registered_model_aliases.insert(), [
            {"name": name, "alias": "champion", "version": 1} for name in names[::7]])
    models = store.search_registered_models(max_results=n)
    assert [m.name for m in models] == names
    assert all(m.tags == {"i": str(i)} for i, m in enumerate(models))
    assert all(m.aliases == ({"champion": "1"} if i % 7 == 0 else {})
               for i, m in enumerate(models))
    assert all([v.tags for v in m.latest_versions] == [{"v": m.name}] for m in models)
    versions = store.search_model_versions(max_results=n, order_by=["name"])
    assert [v.aliases for v in versions[:8]] == [["champion"]] + [[]] * 6 + [["champion"]]
    assert all(v.tags == {"v": v.name} for v in versions)


def test_version_tags_are_read_for_the_versions_shown(db_uri):
    """A page reads the tags of the versions it shows (a models page: the latest per
    stage), in chunks of (name, version) pairs: one model's versions span two chunks, and
    an alias is listed once whichever chunk reads it."""
    from skiff_stores_sql import _registry_rows
    from skiff_stores_sql import schema as t

    store = _store(db_uri)
    n = _registry_rows.PAIR_CHUNK + 30
    stages = ["None", "Staging", "Production", "Archived"]
    with store.engine.begin() as conn:
        conn.execute(t.registered_models.insert(), [
            {"name": "big", "creation_timestamp": 0, "last_updated_timestamp": 0,
             "last_version": n}])
        conn.execute(t.model_versions.insert(), [
            {"name": "big", "version": v, "creation_timestamp": v, "last_updated_timestamp": v,
             "current_stage": stages[v % 4], "source": "s3://b/m", "status": "READY"}
            for v in range(1, n + 1)])
        conn.execute(t.model_version_tags.insert(), [
            {"name": "big", "version": v, "key": "v", "value": str(v)} for v in range(1, n + 1)])
        conn.execute(t.registered_model_aliases.insert(), [
            {"name": "big", "alias": "first", "version": 1},
            {"name": "big", "alias": "last", "version": n}])
    versions = store.search_model_versions(max_results=n, order_by=["version_number"])
    assert [v.version for v in versions] == [str(v) for v in range(1, n + 1)]
    assert all(v.tags == {"v": v.version} for v in versions)
    assert [(v.version, v.aliases) for v in versions if v.aliases] == [
        ("1", ["first"]), (str(n), ["last"])]
    (model,) = store.search_registered_models()
    assert model.aliases == {"first": "1", "last": str(n)}
    latest = {v.current_stage: v for v in model.latest_versions}
    assert {stage: v.version for stage, v in latest.items()} == {
        stages[v % 4]: str(v) for v in range(n - 3, n + 1)}
    assert all(v.tags == {"v": v.version} for v in model.latest_versions)
    assert latest[stages[n % 4]].aliases == ["last"]


def test_pages_bind_at_most_999_parameters_on_sqlite(sqlite_uri):
    """SQLite before 3.32 refuses a statement of more than 999 bound parameters: pages of
    300 models (12 versions each, matched by pair) and of 1,000 versions stay within it."""
    import sqlite3

    import sqlalchemy as sa

    from skiff_stores_sql import schema as t

    store = _store(sqlite_uri)
    store.engine.dispose()
    sa.event.listen(store.engine, "connect", lambda dbapi_conn, _record: dbapi_conn.setlimit(
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999))
    names = [f"m{i:03d}" for i in range(300)]
    stages = ["None", "Staging", "Production", "Archived"]
    with store.engine.begin() as conn:
        conn.execute(t.registered_models.insert(), [
            {"name": name, "creation_timestamp": i, "last_updated_timestamp": i,
             "last_version": 12} for i, name in enumerate(names)])
        conn.execute(t.model_versions.insert(), [
            {"name": name, "version": v, "creation_timestamp": v, "last_updated_timestamp": v,
             "current_stage": stages[v % 4], "source": "s3://b/m", "status": "READY"}
            for name in names for v in range(1, 13)])
        conn.execute(t.model_version_tags.insert(), [
            {"name": name, "version": v, "key": "v", "value": f"{name}/{v}"}
            for name in names for v in range(1, 13)])
    models = store.search_registered_models(max_results=300)
    assert [m.name for m in models] == names
    assert all(sorted(int(v.version) for v in m.latest_versions) == [9, 10, 11, 12]
               for m in models)
    assert all(v.tags == {"v": f"{v.name}/{v.version}"}
               for m in models for v in m.latest_versions)
    versions = store.search_model_versions(max_results=1000, order_by=["name"])
    assert len(versions) == 1000
    assert all(v.tags == {"v": f"{v.name}/{v.version}"} for v in versions)


def test_unfiltered_listings_are_prepared_and_their_generic_plans_hold(postgres_uri):
    """Unfiltered registry pages are prepared on PostgreSQL (``PageStatements``), so the
    server may keep one generic plan for them: forced to, the pages are the same. The
    prompt exclusion's key and value are constants in the SQL, not parameters, so that
    plan still finds them through the key index (with parameters it scanned all tags)."""
    from skiff_stores_sql import _registry_search

    store = _store(postgres_uri)
    for i in range(7):
        store.create_registered_model(f"m{i}")
        for _ in range(1 + i % 3):
            store.create_model_version(f"m{i}", "runs:/r/m", "r")
    store.create_registered_model("p", [RunTag("mlflow.prompt.is_prompt", "true")])
    orders = [None, ["name ASC"], ["last_updated_timestamp DESC"]]
    expected = {(kind, str(order)): [(e.name, getattr(e, "version", None)) for e in _all_pages(
        search, 100, order_by=order)] for order in orders for kind, search in (
        ("models", store.search_registered_models), ("versions", store.search_model_versions))}
    with store.engine.connect() as conn:
        conn.exec_driver_sql(
            f"ALTER DATABASE {postgres_uri.rsplit('/', 1)[1]} SET plan_cache_mode = "
            "force_generic_plan")
    store.engine.dispose()  # new connections take the setting
    for order in orders:
        for kind, search in (("models", store.search_registered_models),
                             ("versions", store.search_model_versions)):
            assert [(e.name, getattr(e, "version", None)) for e in _all_pages(
                search, 2, order_by=order)] == expected[kind, str(order)]
    assert "p" not in [m.name for m in store.search_registered_models()]

    with store.engine.connect() as conn:
        prepared = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_prepared_statements WHERE generic_plans > 0 AND "
            "position('mlflow.prompt.is_prompt' IN statement) > 0").scalar()
    assert prepared >= 1
    pages = _registry_search.model_version_search(None, ["name ASC"])
    sql, arguments = pages._rendered[100, "first", "postgresql", "psycopg"]
    assert "= 'mlflow.prompt.is_prompt'" in sql and "= 'true'" in sql
    assert all(isinstance(v, int) for v in arguments({}).values())  # the LIMIT alone
