"""Skiff's SQL tracking store (SQLite, PostgreSQL, MySQL/MariaDB) on SQLAlchemy Core."""

__all__ = ["SqlTrackingStore"]


def __getattr__(name):
    # Keep `import skiff_stores_sql` free of SQLAlchemy until the store is used.
    if name == "SqlTrackingStore":
        from skiff_stores_sql.store import SqlTrackingStore

        return SqlTrackingStore
    raise AttributeError(name)
