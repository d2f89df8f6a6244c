"""Each registered model's and each model version's tags and aliases, also kept as one JSON
text on its own row (``tags_aliases`` of ``registered_models`` and of ``model_versions``).

Why: a page of 100 versions read their tags and their models' aliases with one more query
over two tables, and a page of models read three tables more: a third to a half of the
page's time (bench/registry). With the documents a page's own rows carry them, and a
models page reads its latest versions' documents with those versions.

Forms (keys sorted):
- a model's: ``{"aliases": {alias: "version"}, "tags": {key: value}}``;
- a version's: ``{"aliases": [alias, ...], "tags": {key: value}}``, the aliases that point
  at it, sorted.

The rules that keep them in step with the tag and alias tables, which stay the truth for
filters:
- Every write of a model's or a version's tags or aliases first holds the model row's
  lock (``SELECT ... FOR UPDATE``; SQLite's write transactions are exclusive anyway), then
  changes the tables, then rebuilds the documents it touched from the tables (``refresh``)
  in the same transaction. Registry writes are rare next to its reads, so a rebuild (two
  small reads) is preferred to patching the old text: it is exact whatever came before.
- NULL means "read the tables": a document that would pass ``MAX_CHARS`` is stored as NULL
  (a model with thousands of long tags would otherwise rewrite megabytes per tag), and a
  page holding any row without a document is read the table way
  (``_registry_rows.Extras``).
"""

from __future__ import annotations

import sqlalchemy as sa

from skiff_stores_sql import schema as t
from skiff_stores_sql._common import DOCUMENT_MAX_CHARS, document_text

MAX_CHARS = DOCUMENT_MAX_CHARS
COLUMN = "tags_aliases"
# positions of the document in rows of the two tables (rows are read by position)
MODEL_INDEX = [c.key for c in t.registered_models.c].index(COLUMN)
VERSION_INDEX = [c.key for c in t.model_versions.c].index(COLUMN)

_models, _versions = t.registered_models, t.model_versions
_model_tags, _version_tags = t.registered_model_tags, t.model_version_tags
_aliases = t.registered_model_aliases


def model_document(tags: dict, aliases: dict) -> str | None:
    """The document of a model with these tags and aliases (alias -> version number), or
    None when it is too long."""
    return document_text({"aliases": {alias: str(v) for alias, v in aliases.items()},
                          "tags": tags})


def version_document(tags: dict, aliases=()) -> str | None:
    """The document of a version with these tags and the aliases pointing at it."""
    return document_text({"aliases": sorted(aliases), "tags": tags})


def refresh(conn, name: str, versions=()) -> None:
    """Rebuild from the tables the document of model ``name`` and those of its
    ``versions`` (numbers; those that no longer exist are skipped). The caller holds the
    model row's lock."""
    _rebuild(conn, [name], sorted({int(v) for v in versions}))


def backfill(conn, chunk: int = 500) -> None:
    """Write the documents of every model and version from the tables (the migration
    that adds the columns: models registered before it)."""
    names = [row[0] for row in conn.execute(sa.select(_models.c.name).order_by(_models.c.name))]
    for start in range(0, len(names), chunk):
        _rebuild(conn, names[start:start + chunk], None)


def _rebuild(conn, names: list, versions: list | None) -> None:
    """Documents of the models ``names`` and of their ``versions`` (numbers, with one name
    only; None: every version of those models)."""
    model_tags = {name: {} for name in names}
    model_aliases = {name: {} for name in names}
    for name, key, value in conn.execute(
            sa.select(_model_tags.c.name, _model_tags.c.key, _model_tags.c.value)
            .where(_model_tags.c.name.in_(names))):
        model_tags[name][key] = value
    version_aliases: dict[tuple, list] = {}
    for name, alias, version in conn.execute(
            sa.select(_aliases.c.name, _aliases.c.alias, _aliases.c.version)
            .where(_aliases.c.name.in_(names))):
        model_aliases[name][alias] = version
        version_aliases.setdefault((name, version), []).append(alias)
    conn.execute(
        _models.update().where(_models.c.name == sa.bindparam("_name"))
        .values({COLUMN: sa.bindparam("_doc")}),
        [{"_name": name, "_doc": model_document(model_tags[name], model_aliases[name])}
         for name in names])

    vt = _version_tags
    tag_rows = sa.select(vt.c.name, vt.c.version, vt.c.key, vt.c.value).where(
        vt.c.name.in_(names))
    if versions is None:
        pairs = [(name, version) for name, version in conn.execute(
            sa.select(_versions.c.name, _versions.c.version).where(_versions.c.name.in_(names)))]
    else:
        pairs = [(names[0], v) for v in versions]
        tag_rows = tag_rows.where(vt.c.version.in_(versions))
    if not pairs:
        return
    version_tags: dict[tuple, dict] = {pair: {} for pair in pairs}
    for name, version, key, value in conn.execute(tag_rows):
        found = version_tags.get((name, version))
        if found is not None:
            found[key] = value
    conn.execute(
        _versions.update().where(_versions.c.name == sa.bindparam("_name"),
                                 _versions.c.version == sa.bindparam("_version"))
        .values({COLUMN: sa.bindparam("_doc")}),
        [{"_name": name, "_version": version,
          "_doc": version_document(tags, version_aliases.get((name, version), ()))}
         for (name, version), tags in version_tags.items()])
