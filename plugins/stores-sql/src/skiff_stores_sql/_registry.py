"""``SqlRegistryStore``: MLflow's model registry on the SQL store's database.

Registered models, their tags and aliases live here; versions are in
``_registry_versions``, search compilation in ``_registry_search``. Every change to a
model and its dependents (rename, delete) is one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from skiff.entities import ModelVersion, PagedList, RegisteredModel
from skiff.errors import SkiffException
from skiff.store.registry import (
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    RegistryStore,
)
from skiff.store.registry_rules import validate_alias, validate_model_name, validate_registry_tag
from skiff.validation import validate_max_results
from skiff_stores_sql import _dialect, _registry_docs, _registry_search
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import invalid, not_found, now_ms
from skiff_stores_sql._registry_rows import models_from_rows, versions_from_rows
from skiff_stores_sql._registry_versions import VersionsMixin, version_number
from skiff_stores_sql.engine import (
    backend_of,
    get_engine,
    normalize_url,
    run_read,
    run_write,
)
from skiff_stores_sql.schema_version import ensure_schema


def model_exists_error(name: str) -> SkiffException:
    return SkiffException(f"Registered Model (name={name}) already exists.",
                          "RESOURCE_ALREADY_EXISTS")


def _checked_name(name) -> None:
    validate_model_name(name)
    if len(name) > t.REGISTRY_NAME_LENGTH:
        raise invalid(f"Registered model name exceeds {t.REGISTRY_NAME_LENGTH} characters")


def _tag_value(value) -> str:
    return "" if value is None else str(value)


class SqlRegistryStore(VersionsMixin, RegistryStore):
    """Registered models, versions, tags and aliases in SQLite, PostgreSQL or MySQL."""

    def __init__(self, store_uri: str, tracking_uri: str | None = None):
        super().__init__(store_uri, tracking_uri)
        self.url = normalize_url(store_uri)
        self.backend = backend_of(self.url)
        self.engine = get_engine(self.url)
        ensure_schema(self.engine, store_uri)

    def __repr__(self) -> str:
        return f"SqlRegistryStore({self.url.render_as_string(hide_password=True)!r})"

    # -- transactions ------------------------------------------------------------------
    def _write(self, fn):
        """Run ``fn(conn)`` in one write transaction (see ``engine.run_write``)."""
        return run_write(self.engine, self.url, fn)

    def _read(self, fn):
        return run_read(self.engine, fn)

    # -- rows to entities --------------------------------------------------------------
    def _model_row(self, conn, name, lock: bool = False):
        models = t.registered_models
        stmt = sa.select(models).where(models.c.name == name)
        if lock and self.backend != "sqlite":
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first() if isinstance(name, str) else None
        if row is None:
            raise not_found(f"Registered Model with name={name} not found")
        return row

    def _touch_model(self, conn, name, when=None) -> None:
        models = t.registered_models
        conn.execute(models.update().where(models.c.name == name)
                     .values(last_updated_timestamp=when or now_ms()))

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(self, name, tags=None, description=None) -> RegisteredModel:
        _checked_name(name)
        tags = list(tags or [])
        for tag in tags:
            validate_registry_tag(tag.key, tag.value)
        models = t.registered_models

        def create(conn):
            taken = conn.execute(sa.select(models.c.name).where(models.c.name == name))
            if taken.first() is not None:
                raise model_exists_error(name)
            now = now_ms()
            latest = {tag.key: _tag_value(tag.value) for tag in tags}
            conn.execute(models.insert().values(
                name=name, creation_timestamp=now, last_updated_timestamp=now,
                description=description, last_version=0,
                tags_aliases=_registry_docs.model_document(latest, {})))
            if latest:
                conn.execute(t.registered_model_tags.insert(), [
                    {"name": name, "key": k, "value": v} for k, v in latest.items()])
            return models_from_rows(conn, [self._model_row(conn, name)], False)[0]

        try:
            return self._write(create)
        except sa.exc.IntegrityError:
            raise model_exists_error(name) from None  # a concurrent create won

    def get_registered_model(self, name) -> RegisteredModel:
        return self._read(lambda conn: models_from_rows(
            conn, [self._model_row(conn, name)])[0])

    def update_registered_model(self, name, description) -> RegisteredModel:
        models = t.registered_models

        def update(conn):
            self._model_row(conn, name)
            conn.execute(models.update().where(models.c.name == name).values(
                description=description, last_updated_timestamp=now_ms()))

        self._write(update)
        return self.get_registered_model(name)

    def rename_registered_model(self, name, new_name) -> RegisteredModel:
        _checked_name(new_name)

        def rename(conn):
            self._model_row(conn, name, lock=True)
            if new_name == name:
                return
            models = t.registered_models
            if conn.execute(sa.select(models.c.name).where(
                    models.c.name == new_name)).first() is not None:
                raise model_exists_error(new_name)
            now = now_ms()
            # Children first, the model row last: one transaction moves them all.
            for table in t.REGISTRY_TABLES:
                values = {"name": new_name}
                if table is t.model_versions or table is models:
                    values["last_updated_timestamp"] = now
                conn.execute(table.update().where(table.c.name == name).values(**values))

        try:
            self._write(rename)
        except sa.exc.IntegrityError:
            raise model_exists_error(new_name) from None
        return self.get_registered_model(new_name)

    def delete_registered_model(self, name) -> None:
        def delete(conn):
            self._model_row(conn, name, lock=True)
            for table in t.REGISTRY_TABLES:
                conn.execute(table.delete().where(table.c.name == name))

        self._write(delete)

    def search_registered_models(self, filter_string=None,
                                 max_results=SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
                                 order_by=None, page_token=None) -> PagedList[RegisteredModel]:
        max_results = validate_max_results(max_results,
                                           SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD)
        pages = _registry_search.registered_model_search(filter_string, order_by)

        def search(conn):
            rows, token = pages.rows(conn, page_token, max_results)
            return PagedList(models_from_rows(conn, rows), token)

        return self._read(search)

    # -- registered model tags -----------------------------------------------------------
    def set_registered_model_tag(self, name, tag) -> None:
        validate_registry_tag(tag.key, tag.value)

        def set_tag(conn):
            self._model_row(conn, name, lock=True)  # ordered after a concurrent delete
            _dialect.upsert(conn, t.registered_model_tags, [
                {"name": name, "key": tag.key, "value": _tag_value(tag.value)}],
                ["name", "key"], ["value"])
            _registry_docs.refresh(conn, name)
            self._touch_model(conn, name)

        self._write(set_tag)

    def delete_registered_model_tag(self, name, key) -> None:
        validate_registry_tag(key, None)
        tags = t.registered_model_tags

        def delete(conn):
            self._model_row(conn, name, lock=True)  # the document's writers take turns
            if conn.execute(tags.delete().where(tags.c.name == name,
                                                tags.c.key == key)).rowcount:
                _registry_docs.refresh(conn, name)
                self._touch_model(conn, name)

        self._write(delete)

    # -- aliases ---------------------------------------------------------------------------
    def set_registered_model_alias(self, name, alias, version) -> None:
        validate_alias(alias)
        number = version_number(version)

        def set_alias(conn):
            self._model_row(conn, name, lock=True)
            self._version_row(conn, name, number)
            aliases = t.registered_model_aliases
            before = conn.execute(sa.select(aliases.c.version).where(
                aliases.c.name == name, aliases.c.alias == alias)).scalar()
            _dialect.upsert(conn, aliases, [
                {"name": name, "alias": alias, "version": number}],
                ["name", "alias"], ["version"])
            _registry_docs.refresh(conn, name, [number] if before is None else [before, number])
            self._touch_model(conn, name)

        self._write(set_alias)

    def delete_registered_model_alias(self, name, alias) -> None:
        validate_alias(alias)
        aliases = t.registered_model_aliases

        def delete(conn):
            self._model_row(conn, name, lock=True)  # the documents' writers take turns
            version = conn.execute(sa.select(aliases.c.version).where(
                aliases.c.name == name, aliases.c.alias == alias)).scalar()
            if version is not None:
                conn.execute(aliases.delete().where(aliases.c.name == name,
                                                    aliases.c.alias == alias))
                _registry_docs.refresh(conn, name, [version])
                self._touch_model(conn, name)

        self._write(delete)

    def get_model_version_by_alias(self, name, alias) -> ModelVersion:
        if isinstance(alias, str) and alias.lower() == "latest":
            latest = self.get_latest_versions(name)
            if not latest:
                raise not_found(f"Registered model {name} has no versions.")
            return self.get_model_version(name, max(int(mv.version) for mv in latest))
        validate_alias(alias)
        aliases = t.registered_model_aliases

        def get(conn):
            self._model_row(conn, name)
            version = conn.execute(sa.select(aliases.c.version).where(
                aliases.c.name == name, aliases.c.alias == alias)).scalar()
            if version is None:
                raise not_found(f"Registered model alias {alias} not found.")
            return versions_from_rows(conn, [self._version_row(conn, name, version)])[0]

        return self._read(get)

