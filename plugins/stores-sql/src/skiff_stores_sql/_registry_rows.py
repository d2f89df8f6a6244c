"""Registry rows to entities in few statements, all keyed by the page's model names: one
for the tags and aliases of models and their versions together, and for a page of models
one for their latest version per stage.

Rows are unpacked by position (a SQLAlchemy ``Row`` attribute costs ~0.5 us, a tuple slot
next to nothing: it is most of a search page's time otherwise), so the column order of the
tables is checked here at import. The statements are built once and run as driver SQL
(``_in_lists.ExpandingSelect``), so only their parameters change per call.
"""

from __future__ import annotations

import sqlalchemy as sa

from skiff.entities import ModelVersion, RegisteredModel
from skiff.entities.registry import ALL_STAGES
from skiff_stores_sql import schema as t
from skiff_stores_sql._in_lists import ExpandingSelect

_MODEL_COLUMNS = ("name", "creation_timestamp", "last_updated_timestamp", "description",
                  "user_id", "last_version")
_VERSION_COLUMNS = ("name", "version", "creation_timestamp", "last_updated_timestamp",
                    "description", "user_id", "current_stage", "source", "storage_location",
                    "run_id", "run_link", "status", "status_message", "model_id")
for _table, _columns in ((t.registered_models, _MODEL_COLUMNS),
                         (t.model_versions, _VERSION_COLUMNS)):
    if tuple(c.key for c in _table.c)[:len(_columns)] != _columns:
        raise RuntimeError(f"{_table.name} columns changed: update {__name__}")

CHUNK = 256  # names per IN list: 3 padded lists a statement stay under SQLite's old 999
_names = sa.bindparam("names", expanding=True)
_stages = sa.bindparam("stages", expanding=True)
_mt, _al, _vt, _mv = (t.registered_model_tags, t.registered_model_aliases,
                      t.model_version_tags, t.model_versions)
MODEL_TAG, ALIAS, VERSION_TAG = 0, 1, 2


def _kind(kind: int):
    return sa.literal_column(str(kind))  # inline: the driver SQL binds names only


def _extras_statement(*kinds):
    """(kind, name, version, key, value) rows: model tags, aliases (key = alias) and
    version tags of the ``names``, in one UNION ALL."""
    parts = {
        MODEL_TAG: sa.select(_kind(MODEL_TAG), _mt.c.name, sa.null(), _mt.c.key,
                             _mt.c.value).where(_mt.c.name.in_(_names)),
        ALIAS: sa.select(_kind(ALIAS), _al.c.name, _al.c.version, _al.c.alias,
                         sa.null()).where(_al.c.name.in_(_names)),
        VERSION_TAG: sa.select(_kind(VERSION_TAG), _vt.c.name, _vt.c.version, _vt.c.key,
                               _vt.c.value).where(_vt.c.name.in_(_names)),
    }
    return ExpandingSelect(sa.union_all(*(parts[kind] for kind in kinds)), "names")


_MODEL_EXTRAS = _extras_statement(MODEL_TAG, ALIAS, VERSION_TAG)
_VERSION_EXTRAS = _extras_statement(ALIAS, VERSION_TAG)


class Extras:
    """Tags and aliases of some models and their versions."""

    def __init__(self):
        self.model_tags: dict[str, dict] = {}
        self.aliases: dict[str, dict[str, str]] = {}  # name -> {alias: version}
        self.version_aliases: dict[tuple, list] = {}  # (name, version) -> [alias]
        self.version_tags: dict[tuple, dict] = {}

    @classmethod
    def fetch(cls, conn, names, for_models: bool) -> Extras:
        extras = cls()
        statement = _MODEL_EXTRAS if for_models else _VERSION_EXTRAS
        aliases = []
        for chunk in _chunks(sorted(set(names))):
            for kind, name, version, key, value in statement.rows(conn, chunk):
                if kind == VERSION_TAG:
                    extras.version_tags.setdefault((name, version), {})[key] = value
                elif kind == MODEL_TAG:
                    extras.model_tags.setdefault(name, {})[key] = value
                else:
                    aliases.append((name, key, version))
        for name, alias, version in sorted(aliases):
            extras.aliases.setdefault(name, {})[alias] = str(version)
            extras.version_aliases.setdefault((name, version), []).append(alias)
        return extras


def _latest_statement(with_stages: bool):
    """The highest version per (model, stage) of the ``names`` (and ``stages``)."""
    where = [_mv.c.name.in_(_names)]
    if with_stages:
        where.append(_mv.c.current_stage.in_(_stages))
    top = (sa.select(_mv.c.name, _mv.c.current_stage, sa.func.max(_mv.c.version).label("v"))
           .where(*where).group_by(_mv.c.name, _mv.c.current_stage).subquery())
    return sa.select(_mv).join(top, sa.and_(_mv.c.name == top.c.name, _mv.c.version == top.c.v))


_LATEST = ExpandingSelect(_latest_statement(False), "names")
_LATEST_IN_STAGES = _latest_statement(True)


def _chunks(names: list):
    for start in range(0, len(names), CHUNK):
        yield names[start:start + CHUNK]


def versions_from_rows(conn, rows, extras: Extras | None = None) -> list[ModelVersion]:
    """Entities for model_versions rows (table columns first, in order), with tags and
    aliases (from ``extras`` when the caller has them)."""
    if not rows:
        return []
    if extras is None:
        extras = Extras.fetch(conn, {row[0] for row in rows}, for_models=False)
    tags, aliases = extras.version_tags, extras.version_aliases
    out = []
    for row in rows:
        (name, version, created, updated, description, user_id, stage, source, _location,
         run_id, run_link, status, status_message, model_id) = row[:14]
        key = (name, version)
        out.append(ModelVersion(
            name=name, version=str(version), creation_timestamp=created,
            last_updated_timestamp=updated, description=description, user_id=user_id,
            current_stage=stage, source=source, run_id=run_id, status=status,
            status_message=status_message, tags=dict(tags.get(key, ())), run_link=run_link,
            aliases=list(aliases.get(key, ())), model_id=model_id))
    return out


def latest_versions(conn, names, stages=None, extras: Extras | None = None
                    ) -> list[ModelVersion]:
    """The highest version per (model, stage) of ``names``: by name, then stage order."""
    rows = []
    for chunk in _chunks(sorted(set(names))):
        if stages is None:
            rows += _LATEST.rows(conn, chunk)
        else:
            rows += conn.execute(_LATEST_IN_STAGES, {"names": chunk,
                                                     "stages": list(stages)}).all()
    order = {stage: i for i, stage in enumerate(stages or ALL_STAGES)}
    rows.sort(key=lambda r: (r[0], order.get(r[6], len(order))))
    return versions_from_rows(conn, rows, extras)


def models_from_rows(conn, rows, with_latest: bool = True) -> list[RegisteredModel]:
    """Entities for registered_models rows (table columns first, in order) with tags,
    aliases and (``with_latest``) the latest version per stage."""
    if not rows:
        return []
    names = {row[0] for row in rows}
    extras = Extras.fetch(conn, names, for_models=True)
    latest: dict[str, list] = {}
    if with_latest:
        for mv in latest_versions(conn, names, None, extras):
            latest.setdefault(mv.name, []).append(mv)
    out = []
    for row in rows:
        name, created, updated, description, user_id = row[:5]
        out.append(RegisteredModel(
            name=name, creation_timestamp=created, last_updated_timestamp=updated,
            description=description, latest_versions=latest.get(name, []),
            tags=dict(extras.model_tags.get(name, ())),
            aliases=dict(extras.aliases.get(name, ())), user_id=user_id))
    return out
