"""Store URIs: driver mapping, plugin registration, malformed URIs, unreachable servers."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from skiff.errors import SkiffException
from skiff_stores_sql.engine import ACCEPTED_FORMS, normalize_url


@pytest.mark.parametrize("uri, driver", [
    ("sqlite:///rel.db", "sqlite"),
    ("sqlite:////abs/path.db", "sqlite"),
    ("postgresql://u:p@h:5432/db", "postgresql+psycopg"),
    ("postgres://u@h/db", "postgresql+psycopg"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ("mysql://root@h:3306/db", "mysql+pymysql"),
    ("mysql+pymysql://root@h/db", "mysql+pymysql"),
])
def test_driver_mapping(uri, driver):
    assert normalize_url(uri).drivername == driver


@pytest.mark.parametrize("uri", [
    "sqlite:/missing-slashes.db",
    "sqlite://host/x.db",
    "oracle://u@h/db",
    "postgresql://u@h:notaport/db",
    "postgresql://u@h:5432",
    "mysql://root@h/",
    "just-words",
])
def test_malformed_uri_names_accepted_forms(uri):
    with pytest.raises(SkiffException) as info:
        normalize_url(uri)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert ACCEPTED_FORMS in info.value.message
    assert "\n" not in info.value.message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_unreachable_server_is_one_line_with_host_and_port(scheme):
    from skiff_stores_sql.store import SqlTrackingStore

    port = _free_port()
    with pytest.raises(SkiffException) as info:
        SqlTrackingStore(f"{scheme}://someone@127.0.0.1:{port}/db")
    message = info.value.message
    assert f"127.0.0.1:{port}" in message
    assert "\n" not in message


def test_schemes_resolve_through_the_plugin_registry(sqlite_uri, plugin_manager):
    from skiff.plugins import get_registries
    from skiff.tracking._stores import clear_store_cache, get_tracking_store
    from skiff_stores_sql.store import SqlTrackingStore

    registry = get_registries().tracking_stores
    for scheme in ("sqlite", "postgresql", "mysql"):
        assert registry.plugin_for(scheme) is not None
    clear_store_cache()
    try:
        assert isinstance(get_tracking_store(sqlite_uri), SqlTrackingStore)
    finally:
        clear_store_cache()


def test_importing_the_plugin_module_stays_light():
    code = (
        "import sys, skiff, skiff_stores_sql, skiff_stores_sql.plugin; "
        "print('sqlalchemy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
