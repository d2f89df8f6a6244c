"""Version searches by name prefix on SQLite (``_version_walk``): the walk along the
last-update index gives the very pages the plain statements give, and a capped count of
the name range chooses between them."""

import pytest

from skiff.entities import RunTag
from skiff_stores_sql import _registry_search, _version_walk
from skiff_stores_sql._version_walk import _successor, like_prefix


@pytest.mark.parametrize("pattern, prefix", [
    ("fraud-%", "fraud-"), ("a\\_b%", "a_b"), ("a\\%%", "a%"), ("é%", "é"),
    ("%x", None), ("a%b%", None), ("a_%", None), ("abc", None), ("%", None),
    ("a\\%", None), ("a%%", None), (None, None),
])
def test_like_prefix_is_the_text_of_a_pattern_with_one_trailing_percent(pattern, prefix):
    assert like_prefix(pattern) == prefix


def test_successor_is_the_next_code_point_where_there_is_one():
    assert _successor("ab") == "ac"
    assert _successor("a\u00ff") == "a\u0100"
    assert _successor("a\U0010ffff") is None
    assert _successor("a\ud7ff") is None  # the next one is a surrogate


NAMES = ["ab", "ab_x", "ab%y", "abz", "aB", "ac", "a", "abé", "b", "prompt-ab"]


@pytest.fixture
def store(sqlite_uri):
    from skiff_stores_sql._registry import SqlRegistryStore

    store = SqlRegistryStore(sqlite_uri, sqlite_uri)
    for i, name in enumerate(NAMES):
        is_prompt = name.startswith("prompt")
        store.create_registered_model(name, [RunTag("mlflow.prompt.is_prompt", "true")]
                                      if is_prompt else [])
        for j in range(1 + i % 3):
            tags = [RunTag("parity", str(j % 2))]
            if is_prompt:
                tags.append(RunTag("mlflow.prompt.is_prompt", "true"))
            store.create_model_version(name, "runs:/r/m", "r", tags)
    # Interleave the names in last-update order (updates this close may share a millisecond).
    for i, name in enumerate(NAMES):
        store.update_model_version(name, "1", f"touched {i}")
    return store


def _pages(store, filter_string, size=2):
    found, token = [], None
    while True:
        page = store.search_model_versions(filter_string, size, None, token)
        found += [(v.name, v.version, v.last_updated_timestamp, v.tags) for v in page]
        token = page.token
        if not token:
            return found


@pytest.mark.parametrize("filter_string, keeps", [
    ("name LIKE 'ab%'", lambda name, parity: name.startswith("ab")),
    ("name LIKE 'a%'", lambda name, parity: name.startswith("a")),
    ("name LIKE 'ab%' AND tags.parity = '0'",
     lambda name, parity: name.startswith("ab") and parity == "0"),
    ("name LIKE 'ab%' AND name != 'abz'", lambda name, parity: name.startswith("ab")
     and name != "abz"),
    ("name LIKE 'prompt%'", lambda name, parity: False),  # prompts stay hidden
    ("name LIKE 'zz%'", lambda name, parity: False),
])
def test_the_walk_gives_the_plain_pages(store, monkeypatch, filter_string, keeps):
    assert isinstance(_registry_search.model_version_search(filter_string, None),
                      _version_walk.VersionWalk)
    monkeypatch.setattr(_version_walk, "WIDE", 10**9)  # never walk
    plain = _pages(store, filter_string)
    monkeypatch.setattr(_version_walk, "WIDE", 1)  # always walk
    walked = _pages(store, filter_string)
    assert walked == plain
    everything = _pages(store, None, 1000)
    assert walked == [v for v in everything if keeps(v[0], v[3].get("parity"))]


def test_the_range_width_chooses_the_walk(store, monkeypatch):
    walk = _registry_search.model_version_search("name LIKE 'ab%'", None)
    chosen = []
    for kind in ("plain", "walk"):
        rows = getattr(walk, kind).rows
        monkeypatch.setattr(getattr(walk, kind), "rows",
                            lambda *a, _rows=rows, _kind=kind: chosen.append(_kind) or _rows(*a))
    with store.engine.connect() as conn:
        assert walk._range_width(conn) == 9  # ab, ab_x, ab%y, abz, abé: 1-3 versions each
        monkeypatch.setattr(_version_walk, "WIDE", 10)
        walk.rows(conn, None, 5)
        monkeypatch.setattr(_version_walk, "WIDE", 9)
        walk.rows(conn, None, 5)
    assert chosen == ["plain", "walk"]


def test_other_orders_and_filters_keep_the_plain_statements():
    for filter_string, order_by in [("name LIKE 'ab%'", ["name ASC"]),
                                    ("name LIKE '%ab'", None), ("name = 'ab'", None),
                                    ("tags.parity = '0'", None)]:
        assert not isinstance(_registry_search.model_version_search(filter_string, order_by),
                              _version_walk.VersionWalk), filter_string
