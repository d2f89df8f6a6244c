"""Entry point of skiff-stores-sql: hook implementations only; heavy imports stay inside."""

from skiff.plugins import hookimpl

SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")


def _tracking_store(store_uri, artifact_uri=None):
    from skiff_stores_sql.store import SqlTrackingStore

    return SqlTrackingStore(store_uri, artifact_uri)


@hookimpl
def register_tracking_stores(register):
    for scheme in SCHEMES:
        register(scheme, _tracking_store)


def _registry_store(store_uri, tracking_uri=None):
    from skiff_stores_sql._registry import SqlRegistryStore

    return SqlRegistryStore(store_uri, tracking_uri)


@hookimpl
def register_registry_stores(register):
    for scheme in SCHEMES:
        register(scheme, _registry_store)


@hookimpl
def register_commands(cli):
    from skiff_stores_sql.cli import db, migrate

    cli.add_command(db)
    cli.add_command(migrate)
