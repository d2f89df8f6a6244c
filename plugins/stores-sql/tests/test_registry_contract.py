"""The registry store contract on SQLite, PostgreSQL and MariaDB (same database layout as
the tracking contract: a SQLite file per test, one emptied database per server class),
plus the registry through ``skiff.Client`` on a SQLite URI."""

import pytest

from skiff.testing.contracts.registry import RegistryStoreContract


def _store(uri):
    from skiff_stores_sql._registry import SqlRegistryStore

    return SqlRegistryStore(uri, uri)


class TestSqliteRegistryContract(RegistryStoreContract):
    @pytest.fixture
    def registry_store(self, sqlite_uri):
        return _store(sqlite_uri)


class TestPostgresRegistryContract(RegistryStoreContract):
    @pytest.fixture
    def registry_store(self, postgres_shared_uri):
        return _store(postgres_shared_uri)


class TestMysqlRegistryContract(RegistryStoreContract):
    @pytest.fixture
    def registry_store(self, mysql_shared_uri):
        return _store(mysql_shared_uri)
