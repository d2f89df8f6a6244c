"""Registry rows to entities in few statements. Rows carry their tags and aliases as JSON
documents (``_registry_docs``): a page of versions needs no other statement, a page of
models one for their latest version per stage. A page holding a row without a document
reads the tables instead (``Extras``): for models one statement for their tags and
aliases with those versions' tags, for versions one for their tags and their models'
aliases.

Rows are unpacked by position (a SQLAlchemy ``Row`` attribute costs ~0.5 us, a tuple slot
next to nothing: it is most of a search page's time otherwise), so the column order of the
tables is checked here at import. The statements are built once and run as driver SQL
(``_in_lists.ExpandingSelect``), so only their parameters change per call.
"""

from __future__ import annotations

import json

import attrs
import sqlalchemy as sa

from skiff.entities import ModelVersion, RegisteredModel
from skiff.entities.registry import ALL_STAGES
from skiff_stores_sql import schema as t
from skiff_stores_sql._in_lists import ExpandingSelect
from skiff_stores_sql._registry_docs import COLUMN, MODEL_INDEX, VERSION_INDEX

_MODEL_COLUMNS = ("name", "creation_timestamp", "last_updated_timestamp", "description",
                  "user_id", "last_version", COLUMN)
_VERSION_COLUMNS = ("name", "version", "creation_timestamp", "last_updated_timestamp",
                    "description", "user_id", "current_stage", "source", "storage_location",
                    "run_id", "run_link", "status", "status_message", "model_id", COLUMN)
for _table, _columns in ((t.registered_models, _MODEL_COLUMNS),
                         (t.model_versions, _VERSION_COLUMNS)):
    if tuple(c.key for c in _table.c)[:len(_columns)] != _columns:
        raise RuntimeError(f"{_table.name} columns changed: update {__name__}")
# Entities are built with positional arguments (half the time of keywords).
_MODEL_FIELDS = ("name", "creation_timestamp", "last_updated_timestamp", "description",
                 "latest_versions", "tags", "aliases", "user_id")
_VERSION_FIELDS = ("name", "version", "creation_timestamp", "last_updated_timestamp",
                   "description", "user_id", "current_stage", "source", "run_id", "status",
                   "status_message", "tags", "run_link", "aliases", "model_id")
for _entity, _fields in ((RegisteredModel, _MODEL_FIELDS), (ModelVersion, _VERSION_FIELDS)):
    if tuple(field.name for field in attrs.fields(_entity)) != _fields:
        raise RuntimeError(f"{_entity.__name__} fields changed: update {__name__}")

# Sizes that keep a statement within SQLite's old limit of 999 bound parameters, each
# list padded to a power of two: a models page binds its names 3 times (256 -> 768), or
# 64 names 3 times and their up to 4 latest versions a model as pairs (192 + 512); a
# versions page its pairs and their names twice (256 + 256).
CHUNK = 256
PAIR_MODELS_CHUNK = 64
PAIR_CHUNK = 128
_names = sa.bindparam("names", expanding=True)
_pairs = sa.bindparam("pairs", expanding=True)
_stages = sa.bindparam("stages", expanding=True)
_mt, _al, _vt, _mv = (t.registered_model_tags, t.registered_model_aliases,
                      t.model_version_tags, t.model_versions)
MODEL_TAG, ALIAS, VERSION_TAG = 0, 1, 2


def _kind(kind: int):
    return sa.literal_column(str(kind))  # inline: the driver SQL binds the lists only


def _extras_statement(kinds: tuple, by_pairs: bool):
    """(kind, name, version, key, value) rows in one UNION ALL: tags and aliases (key =
    alias) of the models ``names``, and the tags of their versions: those of ``pairs``
    ((name, version)) when ``by_pairs``, else of every version (the caller drops the
    rest). PostgreSQL reads by name alone: each pair form measured slower there than
    ``= ANY(names)``; SQLite needs the names too, or it scans the table for the pairs."""
    version_tags = [_vt.c.name.in_(_names)]
    if by_pairs:
        version_tags.append(sa.tuple_(_vt.c.name, _vt.c.version).in_(_pairs))
    parts = {
        MODEL_TAG: sa.select(_kind(MODEL_TAG), _mt.c.name, sa.null(), _mt.c.key,
                             _mt.c.value).where(_mt.c.name.in_(_names)),
        ALIAS: sa.select(_kind(ALIAS), _al.c.name, _al.c.version, _al.c.alias,
                         sa.null()).where(_al.c.name.in_(_names)),
        VERSION_TAG: sa.select(_kind(VERSION_TAG), _vt.c.name, _vt.c.version, _vt.c.key,
                               _vt.c.value).where(*version_tags),
    }
    union = sa.union_all(*(parts[kind] for kind in kinds))
    if by_pairs:
        return ExpandingSelect(union, "names", "pairs", pairs=("pairs",))
    return ExpandingSelect(union, "names")


_MODEL_EXTRAS, _VERSION_EXTRAS = (MODEL_TAG, ALIAS, VERSION_TAG), (ALIAS, VERSION_TAG)
_STATEMENTS = {(kinds, by_pairs): _extras_statement(kinds, by_pairs)
               for kinds in (_MODEL_EXTRAS, _VERSION_EXTRAS, (MODEL_TAG, ALIAS))
               for by_pairs in ((False, True) if VERSION_TAG in kinds else (False,))}


def _matches_pairs(conn) -> bool:
    """Whether version tags are selected by (name, version) pair (see _extras_statement)."""
    return conn.dialect.name != "postgresql"


def _extras_rows(conn, kinds: tuple, names: list, pairs: list, by_pairs: bool) -> list:
    """The rows of ``_extras_statement``; version tags only when ``pairs`` are wanted."""
    if not pairs:
        kinds = tuple(kind for kind in kinds if kind != VERSION_TAG)
    by_pairs = by_pairs and VERSION_TAG in kinds
    statement = _STATEMENTS[kinds, by_pairs]
    return statement.rows(conn, names, pairs) if by_pairs else statement.rows(conn, names)


class Extras:
    """Tags and aliases of some models, and the tags of some of their versions: only
    those shown (a page of models shows its latest versions, not every version of every
    model on it)."""

    def __init__(self, versions):
        self.model_tags: dict[str, dict] = {}
        self.aliases: dict[str, dict[str, str]] = {}  # name -> {alias: version}
        self.version_aliases: dict[tuple, list] = {}  # (name, version) -> [alias]
        self.version_tags: dict[tuple, dict] = {}
        self._wanted = set(versions)
        self._aliases: set[tuple] = set()

    @classmethod
    def for_models(cls, conn, last_versions: dict, versions) -> Extras:
        """Tags and aliases of the models (``last_versions``: name -> highest version
        number), tags of ``versions`` (pairs)."""
        extras = cls(versions)
        by_name: dict[str, list] = {}
        for name, version in versions:
            by_name.setdefault(name, []).append(version)
        # Models with few versions besides those shown: reading all their versions' tags
        # costs less than matching the pairs.
        by_pairs = _matches_pairs(conn) and \
            sum(last_versions.values()) > 2 * len(extras._wanted)
        for chunk in _chunks(sorted(last_versions), PAIR_MODELS_CHUNK if by_pairs else CHUNK):
            pairs = [(name, v) for name in chunk for v in by_name.get(name, ())]
            extras._add(_extras_rows(conn, _MODEL_EXTRAS, chunk, pairs, by_pairs))
        return extras._done()

    @classmethod
    def for_versions(cls, conn, versions) -> Extras:
        """Tags of ``versions`` ((name, version) pairs) and aliases of their models."""
        extras = cls(versions)
        by_pairs = _matches_pairs(conn)
        for chunk in _chunks(sorted(extras._wanted), PAIR_CHUNK if by_pairs else CHUNK):
            names = sorted({name for name, _ in chunk})
            extras._add(_extras_rows(conn, _VERSION_EXTRAS, names, chunk, by_pairs))
        return extras._done()

    def _add(self, rows) -> None:
        wanted, version_tags, model_tags = self._wanted, self.version_tags, self.model_tags
        aliases = self._aliases
        for kind, name, version, key, value in rows:
            if kind == VERSION_TAG:
                pair = (name, version)
                if pair in wanted:
                    found = version_tags.get(pair)
                    if found is None:
                        version_tags[pair] = {key: value}
                    else:
                        found[key] = value
            elif kind == MODEL_TAG:
                found = model_tags.get(name)
                if found is None:
                    model_tags[name] = {key: value}
                else:
                    found[key] = value
            else:  # a model's aliases come once per chunk that holds its versions
                aliases.add((name, key, version))

    def _done(self) -> Extras:
        for name, alias, version in sorted(self._aliases):
            self.aliases.setdefault(name, {})[alias] = str(version)
            self.version_aliases.setdefault((name, version), []).append(alias)
        return self


def _distinct_on(stmt, *columns):
    try:  # SQLAlchemy 2.1 spells it as a PostgreSQL extension
        from sqlalchemy.dialects.postgresql import distinct_on
    except ImportError:
        return stmt.distinct(*columns)
    return stmt.ext(distinct_on(*columns))


def _latest_statement(with_stages: bool, distinct_on: bool):
    """The highest version per (model, stage) of the ``names`` (and ``stages``).
    ``distinct_on`` (PostgreSQL): one ordered pass over the models' versions, ~0.25 ms
    less a page than grouping and joining back; the other backends group and join back
    (SQLite's bare-column form of it measured no faster)."""
    where = [_mv.c.name.in_(_names)]
    if with_stages:
        where.append(_mv.c.current_stage.in_(_stages))
    if distinct_on:
        return (_distinct_on(sa.select(_mv).where(*where), _mv.c.name, _mv.c.current_stage)
                .order_by(_mv.c.name, _mv.c.current_stage, _mv.c.version.desc()))
    top = (sa.select(_mv.c.name, _mv.c.current_stage, sa.func.max(_mv.c.version).label("v"))
           .where(*where).group_by(_mv.c.name, _mv.c.current_stage).subquery())
    return sa.select(_mv).join(top, sa.and_(_mv.c.name == top.c.name, _mv.c.version == top.c.v))


# by whether the backend has DISTINCT ON (PostgreSQL)
_LATEST = {on: ExpandingSelect(_latest_statement(False, on), "names") for on in (False, True)}
_LATEST_IN_STAGES = {on: _latest_statement(True, on) for on in (False, True)}


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _documented(rows, index: int) -> bool:
    return all(row[index] is not None for row in rows)


def versions_from_rows(conn, rows, extras: Extras | None = None) -> list[ModelVersion]:
    """Entities for model_versions rows (table columns first, in order), with tags and
    aliases: from their documents, else from ``extras`` (the caller's, or read here)."""
    if not rows:
        return []
    if extras is None:
        if _documented(rows, VERSION_INDEX):
            return _versions_from_documents(rows)
        extras = Extras.for_versions(conn, [(row[0], row[1]) for row in rows])
    # The tag dicts and alias lists as built (no copies): each version is on a page once.
    tags, aliases = extras.version_tags.get, extras.version_aliases.get
    out = []
    append = out.append
    for (name, version, created, updated, description, user_id, stage, source, _location,
         run_id, run_link, status, status_message, model_id, *_) in rows:
        key = (name, version)
        append(ModelVersion(name, str(version), created, updated, description, user_id,
                            stage, source, run_id, status, status_message, tags(key) or {},
                            run_link, aliases(key) or [], model_id))
    return out


def _documents(rows, index: int) -> list[dict]:
    """The rows' documents, parsed as one JSON array: a third of the time of a
    ``json.loads`` a row."""
    return json.loads("[" + ",".join([row[index] for row in rows]) + "]")


def _versions_from_documents(rows) -> list[ModelVersion]:
    out = []
    append = out.append
    for (name, version, created, updated, description, user_id, stage, source, _location,
         run_id, run_link, status, status_message, model_id, *_), doc in zip(
            rows, _documents(rows, VERSION_INDEX)):
        append(ModelVersion(name, str(version), created, updated, description, user_id,
                            stage, source, run_id, status, status_message, doc["tags"],
                            run_link, doc["aliases"], model_id))
    return out


def _latest_rows(conn, names, stages=None) -> list:
    """model_versions rows of the highest version per (model, stage) of ``names``, by
    name, then stage order."""
    rows = []
    distinct_on = conn.dialect.name == "postgresql"
    for chunk in _chunks(sorted(set(names)), CHUNK):
        if stages is None:
            rows += _LATEST[distinct_on].rows(conn, chunk)
        else:
            rows += conn.execute(_LATEST_IN_STAGES[distinct_on],
                                 {"names": chunk, "stages": list(stages)}).all()
    order = {stage: i for i, stage in enumerate(stages or ALL_STAGES)}
    rows.sort(key=lambda r: (r[0], order.get(r[6], len(order))))
    return rows


def latest_versions(conn, names, stages=None) -> list[ModelVersion]:
    """The highest version per (model, stage) of ``names``: by name, then stage order."""
    return versions_from_rows(conn, _latest_rows(conn, names, stages))


def models_from_rows(conn, rows, with_latest: bool = True) -> list[RegisteredModel]:
    """Entities for registered_models rows (table columns first, in order) with tags,
    aliases and (``with_latest``) the latest version per stage."""
    if not rows:
        return []
    last_versions = {row[0]: row[5] or 0 for row in rows}
    latest_rows = _latest_rows(conn, last_versions) if with_latest else []
    if _documented(rows, MODEL_INDEX) and _documented(latest_rows, VERSION_INDEX):
        return _models_from_documents(rows, _versions_from_documents(latest_rows))
    extras = Extras.for_models(conn, last_versions, [(row[0], row[1]) for row in latest_rows])
    latest: dict[str, list] = {}
    for mv in versions_from_rows(conn, latest_rows, extras):
        latest.setdefault(mv.name, []).append(mv)
    tags, aliases = extras.model_tags.get, extras.aliases.get
    return [RegisteredModel(name, created, updated, description, latest.get(name) or [],
                            tags(name) or {}, aliases(name) or {}, user_id)
            for name, created, updated, description, user_id, *_ in rows]


def _models_from_documents(rows, versions: list) -> list[RegisteredModel]:
    latest: dict[str, list] = {}
    for mv in versions:
        latest.setdefault(mv.name, []).append(mv)
    out = []
    for (name, created, updated, description, user_id, *_), doc in zip(
            rows, _documents(rows, MODEL_INDEX)):
        out.append(RegisteredModel(name, created, updated, description,
                                   latest.get(name) or [], doc["tags"], doc["aliases"],
                                   user_id))
    return out
