"""Model versions of the SQL registry: creation (the model's ``last_version`` counter,
bumped under the model row's lock, so numbers are max+1 and never reused), stages, tags,
deletion (the row goes, the counter stays), download URIs and search."""

from __future__ import annotations

import urllib.parse

import sqlalchemy as sa

from skiff.entities import ModelVersion, PagedList
from skiff.entities.registry import (
    STAGE_ARCHIVED,
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    ModelVersionStatus,
    canonical_stage,
)
from skiff.errors import SkiffException
from skiff.store.registry import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
)
from skiff.store.registry_rules import validate_registry_tag, validate_version
from skiff.validation import validate_max_results
from skiff_stores_sql import _dialect, _registry_docs, _registry_search
from skiff_stores_sql import schema as t
from skiff_stores_sql._common import invalid, not_found, now_ms
from skiff_stores_sql._registry_rows import latest_versions, versions_from_rows

_URI_LENGTH = t.model_versions.c.source.type.length


def version_number(version) -> int:
    number = validate_version(version)
    if number >= 2**31:
        raise invalid(f"Model version {version!r} is out of range")
    return number


class VersionsMixin:
    """Needs ``_read``, ``_write``, ``_model_row`` and ``_touch_model`` of the store."""

    # -- rows to entities ----------------------------------------------------------------
    def _version_row(self, conn, name, version):
        number = version_number(version)
        mv = t.model_versions
        row = conn.execute(sa.select(mv).where(mv.c.name == name, mv.c.version == number)
                           ).first() if isinstance(name, str) else None
        if row is None:
            raise not_found(f"Model Version (name={name}, version={version}) not found")
        return row

    # -- create ---------------------------------------------------------------------------
    def create_model_version(self, name, source, run_id=None, tags=None, run_link=None,
                             description=None, model_id=None) -> ModelVersion:
        tags = list(tags or [])
        for tag in tags:
            validate_registry_tag(tag.key, tag.value)
        if not isinstance(source, str) or not source:
            raise invalid("Model version source cannot be empty.")
        for field, value in (("source", source), ("run_link", run_link)):
            if value and len(value) > _URI_LENGTH:
                raise invalid(f"Model version {field} exceeds {_URI_LENGTH} characters")
        self._read(lambda conn: self._model_row(conn, name))  # before resolving the source
        storage_location, source_run_id, source_model_id = self._resolve_source(source)
        model_id = model_id or source_model_id
        if not run_id and model_id:
            run_id = source_run_id or self._logged_model_run_id(model_id)
        run_id = run_id or source_run_id
        models, mv = t.registered_models, t.model_versions

        def create(conn):
            now = now_ms()
            # The UPDATE takes the model row's lock: concurrent creators queue here.
            bumped = conn.execute(models.update().where(models.c.name == name).values(
                last_version=models.c.last_version + 1, last_updated_timestamp=now))
            if not bumped.rowcount:
                raise not_found(f"Registered Model with name={name} not found")
            number = conn.execute(sa.select(models.c.last_version).where(
                models.c.name == name)).scalar()
            latest = {tag.key: "" if tag.value is None else str(tag.value) for tag in tags}
            conn.execute(mv.insert().values(
                name=name, version=number, creation_timestamp=now,
                last_updated_timestamp=now, description=description, user_id=None,
                current_stage=STAGE_NONE, source=source, storage_location=storage_location,
                run_id=run_id or None, run_link=run_link, status=ModelVersionStatus.READY,
                model_id=model_id, tags_aliases=_registry_docs.version_document(latest)))
            if latest:
                conn.execute(t.model_version_tags.insert(), [
                    {"name": name, "version": number, "key": k, "value": v}
                    for k, v in latest.items()])
            return versions_from_rows(conn, [self._version_row(conn, name, number)])[0]

        return self._write(create)

    def _version_of_uri_parts(self, parts: dict) -> str:
        name = parts["name"]
        if "version" in parts:
            return parts["version"]
        if "alias" in parts:
            return self.get_model_version_by_alias(name, parts["alias"]).version
        stages = [parts["stage"]] if parts.get("stage") else None
        latest = self.get_latest_versions(name, stages)
        if not latest:
            raise not_found(f"No versions of model {name} found in {stages or 'any stage'}")
        return str(max(int(mv.version) for mv in latest))

    def _other_tracking_store(self):
        """The tracking URI's store when it is not this database (else None)."""
        uri = self.tracking_uri
        if not uri or uri == self.store_uri:
            return None
        from skiff.tracking._stores import get_tracking_store

        try:
            return get_tracking_store(uri)
        except SkiffException:
            return None

    def _run_artifact_uri(self, run_id: str) -> str | None:
        runs = t.runs
        # This database's runs first, read directly: opening a tracking store here would
        # create a default experiment in a registry-only database.
        found = self._read(lambda conn: conn.execute(sa.select(runs.c.artifact_uri).where(
            runs.c.run_uuid == run_id)).scalar())
        if found:
            return found
        store = self._other_tracking_store()
        if store is not None:
            try:
                return store.get_run(run_id).info.artifact_uri
            except SkiffException:
                pass
        return None

    def _logged_model(self, model_id: str):
        models = t.logged_models
        here = self._read(lambda conn: conn.execute(sa.select(models.c.model_id).where(
            models.c.model_id == model_id)).first())
        if here:
            from skiff_stores_sql.store import SqlTrackingStore

            return SqlTrackingStore(self.store_uri).get_logged_model(model_id)
        store = self._other_tracking_store()
        if store is None:
            raise not_found(f"Logged model {model_id} not found")
        return store.get_logged_model(model_id)

    def _logged_model_run_id(self, model_id: str) -> str | None:
        try:
            return self._logged_model(model_id).source_run_id
        except SkiffException:
            return None

    # -- read / update ---------------------------------------------------------------------
    def get_model_version(self, name, version) -> ModelVersion:
        return self._read(lambda conn: versions_from_rows(
            conn, [self._version_row(conn, name, version)])[0])

    def _update_version(self, name, version, **values) -> ModelVersion:
        mv = t.model_versions

        def update(conn):
            row = self._version_row(conn, name, version)
            now = now_ms()
            conn.execute(mv.update().where(mv.c.name == name, mv.c.version == row.version)
                         .values(last_updated_timestamp=now, **values))
            self._touch_model(conn, name, now)
            return versions_from_rows(conn, [self._version_row(conn, name, version)])[0]

        return self._write(update)

    def update_model_version(self, name, version, description) -> ModelVersion:
        return self._update_version(name, version, description=description)

    def transition_model_version_stage(self, name, version, stage,
                                       archive_existing_versions) -> ModelVersion:
        stage = canonical_stage(stage)
        if archive_existing_versions and stage not in (STAGE_STAGING, STAGE_PRODUCTION):
            raise invalid(
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are "
                f"{STAGE_STAGING}, {STAGE_PRODUCTION}")
        mv = t.model_versions

        def transition(conn):
            self._model_row(conn, name, lock=True)
            row = self._version_row(conn, name, version)
            now = now_ms()
            if archive_existing_versions:
                conn.execute(mv.update().where(
                    mv.c.name == name, mv.c.version != row.version, mv.c.current_stage == stage,
                ).values(current_stage=STAGE_ARCHIVED, last_updated_timestamp=now))
            conn.execute(mv.update().where(mv.c.name == name, mv.c.version == row.version)
                         .values(current_stage=stage, last_updated_timestamp=now))
            self._touch_model(conn, name, now)
            return versions_from_rows(conn, [self._version_row(conn, name, version)])[0]

        return self._write(transition)

    def delete_model_version(self, name, version) -> None:
        def delete(conn):
            self._model_row(conn, name, lock=True)
            row = self._version_row(conn, name, version)
            for table in (t.model_version_tags, t.registered_model_aliases, t.model_versions):
                conn.execute(table.delete().where(table.c.name == name,
                                                  table.c.version == row.version))
            _registry_docs.refresh(conn, name)  # the model's aliases may have gone with it
            self._touch_model(conn, name)

        self._write(delete)

    def get_model_version_download_uri(self, name, version) -> str:
        row = self._read(lambda conn: self._version_row(conn, name, version))
        location = row.storage_location or row.source
        if urllib.parse.urlparse(location or "").scheme in ("runs", "models"):
            # Registered before its run or model was known here: resolve it now.
            try:
                location = self._resolve_source(location)[0]
            except SkiffException:
                pass
        return location

    def get_latest_versions(self, name, stages=None) -> list[ModelVersion]:
        wanted = list(dict.fromkeys(canonical_stage(s) for s in stages)) if stages else None

        def latest(conn):
            self._model_row(conn, name)
            return latest_versions(conn, [name], wanted)

        return self._read(latest)

    # -- tags ------------------------------------------------------------------------------
    def set_model_version_tag(self, name, version, tag) -> None:
        validate_registry_tag(tag.key, tag.value)

        def set_tag(conn):
            # The model row's lock orders this after a concurrent delete: no orphan tags.
            self._model_row(conn, name, lock=True)
            row = self._version_row(conn, name, version)
            _dialect.upsert(conn, t.model_version_tags, [{
                "name": name, "version": row.version, "key": tag.key,
                "value": "" if tag.value is None else str(tag.value)}],
                ["name", "version", "key"], ["value"])
            _registry_docs.refresh(conn, name, [row.version])
            self._touch_model(conn, name)

        self._write(set_tag)

    def delete_model_version_tag(self, name, version, key) -> None:
        validate_registry_tag(key, None)
        vt = t.model_version_tags

        def delete(conn):
            try:
                self._model_row(conn, name, lock=True)  # the document's writers take turns
            except SkiffException:
                pass  # reported below as the version's absence, as MLflow words it
            row = self._version_row(conn, name, version)
            if conn.execute(vt.delete().where(vt.c.name == name, vt.c.version == row.version,
                                              vt.c.key == key)).rowcount:
                _registry_docs.refresh(conn, name, [row.version])
                self._touch_model(conn, name)

        self._write(delete)

    # -- search ----------------------------------------------------------------------------
    def search_model_versions(self, filter_string=None,
                              max_results=SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
                              order_by=None, page_token=None) -> PagedList[ModelVersion]:
        max_results = validate_max_results(max_results,
                                           SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD)
        pages = _registry_search.model_version_search(filter_string, order_by)

        def search(conn):
            rows, token = pages.rows(conn, page_token, max_results)
            return PagedList(versions_from_rows(conn, rows), token)

        return self._read(search)
