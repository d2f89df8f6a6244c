"""Logged models (MLflow 3.x), their tags, params and metrics, and run-model links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from skiff_stores_sql.schema import _TABLE_OPTIONS, ID_LENGTH, MODEL_ID_LENGTH, LongText

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
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
        **_TABLE_OPTIONS,
    )
    op.create_index(
        "ix_logged_models_experiment", "logged_models",
        ["experiment_id", "creation_timestamp_ms"],
    )
    op.create_table(
        "logged_model_tags",
        sa.Column("model_id", sa.String(MODEL_ID_LENGTH), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "logged_model_params",
        sa.Column("model_id", sa.String(MODEL_ID_LENGTH), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(MODEL_ID_LENGTH), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(ID_LENGTH), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("value_kind", sa.SmallInteger, nullable=False),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.PrimaryKeyConstraint("model_id", "key", "step", "timestamp", "run_id"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "run_model_links",
        sa.Column("run_uuid", sa.String(ID_LENGTH), nullable=False),
        sa.Column("model_id", sa.String(MODEL_ID_LENGTH), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", "direction"),
        **_TABLE_OPTIONS,
    )


def downgrade():
    for name in ("run_model_links", "logged_model_metrics", "logged_model_params",
                 "logged_model_tags", "logged_models"):
        op.drop_table(name)
