"""The tables of the SQL tracking store (SQLAlchemy Core).

Designed for the API's queries rather than copied from MLflow:
- ``metrics`` is clustered on (run, key, step, timestamp, seq) so a history read or a
  sampled step lookup is one index range; ``seq`` keeps repeated identical points apart
  (random high bits, the position in the batch in the low bits).
- Metric values: ``value_kind`` 0 = finite, 1 = NaN (value 0), 2 = +inf, 3 = -inf (value
  +/- the largest double, so ordering by ``value`` stays right; MySQL has no infinities).
- ``latest_metrics`` keeps one row per (run, key) for ``get_run`` and for search filters
  and ordering, with an index on (key, value) for metric-driven searches.
- ``runs`` has an index on (experiment, lifecycle stage, start time) for the default order,
  and carries each run's params and tags as one JSON text (``params_tags``): a page of runs
  reads them with its own rows instead of two more queries (``_params_tags``), and its
  latest metrics likewise (``latest_metrics_doc``, ``_latest_metrics_doc``).
On MySQL/MariaDB every table uses ``utf8mb4_bin`` so ``=`` and ``LIKE`` are case-sensitive
as on the other backends.

The alembic migrations in ``migrations/versions`` build exactly this schema; a test checks
that they agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Alembic's version table; our own name so a Skiff schema never collides with MLflow's.
VERSION_TABLE = "skiff_alembic_version"

# Long text: MySQL's TEXT holds only 64 KB, too little for dataset schemas and profiles.
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Large run tags/params values: VARCHAR(8000) like MLflow, so MySQL can compare them.
Value8000 = sa.String(8000)

ID_LENGTH = 256  # run IDs may be up to 256 characters (validation.validate_run_id)
MODEL_ID_LENGTH = 64

_TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

metadata = sa.MetaData()


def _table(name: str, *columns, **kw) -> sa.Table:
    return sa.Table(name, metadata, *columns, **_TABLE_OPTIONS, **kw)


experiments = _table(
    "experiments",
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.String(2048)),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False),
    sa.Column("creation_time", sa.BigInteger),
    sa.Column("last_update_time", sa.BigInteger),
    sa.UniqueConstraint("name", name="uq_experiments_name"),
)

experiment_tags = _table(
    "experiment_tags",
    sa.Column("experiment_id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", LongText),
)

runs = _table(
    "runs",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(250)),
    sa.Column("user_id", sa.String(256)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start_time", sa.BigInteger),
    sa.Column("end_time", sa.BigInteger),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False),
    sa.Column("artifact_uri", sa.String(2048)),
    sa.Column("deleted_time", sa.BigInteger),
    # the run's params and tags as one JSON text, for reading (``_params_tags``)
    sa.Column("params_tags", LongText),
    # the run's latest metrics as one JSON text, for reading (``_latest_metrics_doc``)
    sa.Column("latest_metrics_doc", LongText),
    sa.Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
    sqlite_with_rowid=False,  # one b-tree seek per run ID instead of index + table
)

metrics = _table(
    "metrics",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("value_kind", sa.SmallInteger, nullable=False),
    sa.Column("dataset_name", sa.String(500)),
    sa.Column("dataset_digest", sa.String(36)),
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH)),
    sqlite_with_rowid=False,
)

latest_metrics = _table(
    "latest_metrics",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("value_kind", sa.SmallInteger, nullable=False),
    sa.Column("dataset_name", sa.String(500)),
    sa.Column("dataset_digest", sa.String(36)),
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH)),
    # value_kind too: the not-NaN check of a metric filter is answered by the index; and
    # on PostgreSQL the run ID (other backends' secondary indexes hold the primary key)
    # so a metric-ordered search joins from the index alone (revision 0007)
    sa.Index("ix_latest_metrics_key_value", "key", "value", "value_kind",
             postgresql_include=["run_uuid"]),
    sqlite_with_rowid=False,
)

params = _table(
    "params",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", Value8000, nullable=False),
    sqlite_with_rowid=False,
)

tags = _table(
    "tags",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", Value8000, nullable=False),
    sqlite_with_rowid=False,
)

# PostgreSQL: a hash index on the run ID (revision 0010). A search walks a metric's index
# and looks up each candidate run by its ID, ~5,000 lookups for a 1,000-run page of the
# 100,000-run benchmark: a b-tree descent compares IDs under the database's collation at
# every level (7 us a lookup), the hash index goes to the ID's bucket (2 us). A run's ID
# never changes, so the index costs only its creation. Kept out of ``metadata`` (the other
# databases would get a second b-tree on their primary key); the schema test skips it.
POSTGRES_ONLY_INDEXES = {"ix_runs_run_uuid_hash": (
    "CREATE INDEX IF NOT EXISTS ix_runs_run_uuid_hash ON runs USING hash (run_uuid)")}
sa.event.listen(runs, "after_create", sa.DDL(
    POSTGRES_ONLY_INDEXES["ix_runs_run_uuid_hash"]).execute_if(dialect="postgresql"))

datasets = _table(
    "datasets",
    sa.Column("dataset_uuid", sa.String(36), primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("digest", sa.String(36), nullable=False),
    sa.Column("source_type", sa.String(36)),
    sa.Column("source", LongText),
    sa.Column("schema", LongText),
    sa.Column("profile", LongText),
    sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name"),
)

dataset_inputs = _table(
    "dataset_inputs",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("dataset_uuid", sa.String(36), primary_key=True),
    sa.Index("ix_dataset_inputs_dataset", "dataset_uuid"),
)

dataset_input_tags = _table(
    "dataset_input_tags",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("dataset_uuid", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.String(500), nullable=False),
)

logged_models = _table(
    "logged_models",
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.String(2048), nullable=False),
    sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("lifecycle_stage", sa.String(20), nullable=False),
    sa.Column("model_type", sa.String(500)),
    sa.Column("source_run_id", sa.String(ID_LENGTH)),
    sa.Column("status_message", sa.Text),
    sa.Index("ix_logged_models_experiment", "experiment_id", "creation_timestamp_ms"),
)

logged_model_tags = _table(
    "logged_model_tags",
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", LongText, nullable=False),
)

logged_model_params = _table(
    "logged_model_params",
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", LongText, nullable=False),
)

logged_model_metrics = _table(
    "logged_model_metrics",
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True),
    sa.Column("run_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("value_kind", sa.SmallInteger, nullable=False),
    sa.Column("dataset_name", sa.String(500)),
    sa.Column("dataset_digest", sa.String(36)),
)

# Models a run used (direction 'input') or produced (direction 'output', with a step).
run_model_links = _table(
    "run_model_links",
    sa.Column("run_uuid", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH), primary_key=True),
    sa.Column("direction", sa.String(8), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False),
)

# -- model registry (revision 0003) -------------------------------------------------------
# Keyed by model name like MLflow, so filters on ``name`` and per-model reads are index
# ranges; a rename rewrites the name in every table in one transaction. ``last_version``
# is the per-model counter: version numbers are never handed out twice, even after deletes.
# On SQLite the tables are clustered on their keys (WITHOUT ROWID), so a page's per-model
# reads are one range each.
REGISTRY_NAME_LENGTH = 256

registered_models = _table(
    "registered_models",
    sa.Column("name", sa.String(REGISTRY_NAME_LENGTH), primary_key=True),
    sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
    sa.Column("description", LongText),
    sa.Column("user_id", sa.String(256)),
    sa.Column("last_version", sa.Integer, nullable=False),
    # the model's tags and aliases as one JSON text, for reading (``_registry_docs``)
    sa.Column("tags_aliases", LongText),  # revision 0011
    sa.Index("ix_registered_models_created", "creation_timestamp"),
    sa.Index("ix_registered_models_updated", "last_updated_timestamp"),
    sqlite_with_rowid=False,  # revision 0008
)

registered_model_tags = _table(
    "registered_model_tags",
    sa.Column("name", sa.String(REGISTRY_NAME_LENGTH), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", LongText, nullable=False),
    sa.Index("ix_registered_model_tags_key", "key", "name"),  # revision 0004
    sqlite_with_rowid=False,  # revision 0008
)

model_versions = _table(
    "model_versions",
    sa.Column("name", sa.String(REGISTRY_NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
    sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
    sa.Column("description", LongText),
    sa.Column("user_id", sa.String(256)),
    sa.Column("current_stage", sa.String(20), nullable=False),
    sa.Column("source", sa.String(2048)),
    sa.Column("storage_location", sa.String(2048)),
    sa.Column("run_id", sa.String(ID_LENGTH)),
    sa.Column("run_link", sa.String(2048)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("status_message", sa.String(500)),
    sa.Column("model_id", sa.String(MODEL_ID_LENGTH)),
    # the version's tags and aliases as one JSON text, for reading (``_registry_docs``)
    sa.Column("tags_aliases", LongText),  # revision 0011
    sa.Index("ix_model_versions_updated", "last_updated_timestamp"),
    sa.Index("ix_model_versions_run", "run_id"),
    sqlite_with_rowid=False,  # revision 0008
)

# by-name listings' order: name, then newest version first (revision 0012)
sa.Index("ix_model_versions_name_newest", model_versions.c.name, model_versions.c.version.desc())

model_version_tags = _table(
    "model_version_tags",
    sa.Column("name", sa.String(REGISTRY_NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", LongText, nullable=False),
    sa.Index("ix_model_version_tags_key", "key", "name", "version"),  # revision 0004
    sqlite_with_rowid=False,  # revision 0008
)

registered_model_aliases = _table(
    "registered_model_aliases",
    sa.Column("name", sa.String(REGISTRY_NAME_LENGTH), primary_key=True),
    sa.Column("alias", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sqlite_with_rowid=False,  # revision 0008
)

# PostgreSQL: statistics on (key, value) together (revisions 0006 and 0013). Keys and values
# of these key-value tables are strongly correlated ('0.1' is common among alpha's values,
# rare among all values), and the planner, assuming them independent, guessed a filter like
# params.alpha = '0.1' 6x too selective and scanned all params instead of walking the order;
# tags.tier = 'gold' on registered models 3x, and hash-joined all tier tags (6.9 ms, 3.0 ms
# walking the names).
KEY_VALUE_STATISTICS = {
    "params": "st_params_key_value", "tags": "st_tags_key_value",
    "registered_model_tags": "st_registered_model_tags_key_value",  # revision 0013
    "model_version_tags": "st_model_version_tags_key_value",  # revision 0013
}
for _table_name, _statistics in KEY_VALUE_STATISTICS.items():
    sa.event.listen(metadata.tables[_table_name], "after_create", sa.DDL(
        f"CREATE STATISTICS IF NOT EXISTS {_statistics} (mcv, dependencies) "
        f"ON key, value FROM {_table_name}").execute_if(dialect="postgresql"))

# Tables holding per-registered-model rows (all keyed by ``name``).
REGISTRY_TABLES = (model_version_tags, registered_model_aliases, model_versions,
                   registered_model_tags, registered_models)

# Tables holding per-run rows, for hard deletes.
RUN_CHILD_TABLES = (metrics, latest_metrics, params, tags, dataset_inputs, dataset_input_tags,
                    run_model_links)
