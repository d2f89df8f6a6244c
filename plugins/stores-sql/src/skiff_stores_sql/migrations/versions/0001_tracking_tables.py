"""Experiments, runs, metrics (history and latest), params, tags and dataset inputs.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from skiff_stores_sql.schema import _TABLE_OPTIONS, ID_LENGTH, MODEL_ID_LENGTH, LongText

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_key_columns():
    return [
        sa.Column("run_uuid", sa.String(ID_LENGTH), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
    ]


def upgrade():
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2048)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_update_time", sa.BigInteger),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", LongText),
        sa.PrimaryKeyConstraint("experiment_id", "key"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
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
        sqlite_with_rowid=False,
        **_TABLE_OPTIONS,
    )
    op.create_index(
        "ix_runs_experiment_stage_start", "runs",
        ["experiment_id", "lifecycle_stage", "start_time"],
    )
    op.create_table(
        "metrics",
        *_run_key_columns(),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("value_kind", sa.SmallInteger, nullable=False),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.Column("model_id", sa.String(MODEL_ID_LENGTH)),
        sa.PrimaryKeyConstraint("run_uuid", "key", "step", "timestamp", "seq"),
        sqlite_with_rowid=False,
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "latest_metrics",
        *_run_key_columns(),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("value_kind", sa.SmallInteger, nullable=False),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.Column("model_id", sa.String(MODEL_ID_LENGTH)),
        sa.PrimaryKeyConstraint("run_uuid", "key"),
        sqlite_with_rowid=False,
        **_TABLE_OPTIONS,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    for name in ("params", "tags"):
        op.create_table(
            name,
            *_run_key_columns(),
            sa.Column("value", sa.String(8000), nullable=False),
            sa.PrimaryKeyConstraint("run_uuid", "key"),
            sqlite_with_rowid=False,
            **_TABLE_OPTIONS,
        )
    op.create_table(
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
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "dataset_inputs",
        sa.Column("run_uuid", sa.String(ID_LENGTH), nullable=False),
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "dataset_uuid"),
        **_TABLE_OPTIONS,
    )
    op.create_index("ix_dataset_inputs_dataset", "dataset_inputs", ["dataset_uuid"])
    op.create_table(
        "dataset_input_tags",
        sa.Column("run_uuid", sa.String(ID_LENGTH), nullable=False),
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "dataset_uuid", "key"),
        **_TABLE_OPTIONS,
    )


def downgrade():
    for name in ("dataset_input_tags", "dataset_inputs", "datasets", "tags", "params",
                 "latest_metrics", "metrics", "runs", "experiment_tags", "experiments"):
        op.drop_table(name)
