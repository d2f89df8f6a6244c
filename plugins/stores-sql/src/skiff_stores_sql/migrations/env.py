"""Alembic environment: runs on the connection handed over by ``skiff_stores_sql.schema_version``
(or on ``sqlalchemy.url`` when alembic is called directly)."""

from alembic import context

from skiff_stores_sql.schema import VERSION_TABLE, metadata


def _configure_and_run(connection):
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run():
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    from skiff_stores_sql.engine import get_engine, normalize_url

    engine = get_engine(normalize_url(context.config.get_main_option("sqlalchemy.url")))
    with engine.connect() as conn:
        _configure_and_run(conn)
        conn.commit()


run()
