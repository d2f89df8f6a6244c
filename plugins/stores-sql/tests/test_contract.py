"""The core tracking-store contract on SQLite, PostgreSQL and MariaDB: SQLite gets a fresh
file per test; each server-backed class gets its own database, emptied after every test."""

import pytest

from skiff.testing.contracts.tracking import TrackingStoreContract


def _store(uri, tmp_path):
    from skiff_stores_sql.store import SqlTrackingStore

    return SqlTrackingStore(uri, (tmp_path / "artifacts").as_uri())


class TestSqliteContract(TrackingStoreContract):
    @pytest.fixture
    def store(self, sqlite_uri, tmp_path):
        return _store(sqlite_uri, tmp_path)


class TestPostgresContract(TrackingStoreContract):
    @pytest.fixture
    def store(self, postgres_shared_uri, tmp_path):
        return _store(postgres_shared_uri, tmp_path)


class TestMysqlContract(TrackingStoreContract):
    @pytest.fixture
    def store(self, mysql_shared_uri, tmp_path):
        return _store(mysql_shared_uri, tmp_path)
