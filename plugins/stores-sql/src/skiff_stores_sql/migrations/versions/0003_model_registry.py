"""Model registry: registered models, their tags and aliases, model versions and their tags.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from skiff_stores_sql.schema import (
    _TABLE_OPTIONS,
    ID_LENGTH,
    MODEL_ID_LENGTH,
    REGISTRY_NAME_LENGTH,
    LongText,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _name():
    return sa.Column("name", sa.String(REGISTRY_NAME_LENGTH), nullable=False)


def upgrade():
    op.create_table(
        "registered_models",
        _name(),
        sa.Column("creation_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger, nullable=False),
        sa.Column("description", LongText),
        sa.Column("user_id", sa.String(256)),
        sa.Column("last_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name"),
        **_TABLE_OPTIONS,
    )
    op.create_index("ix_registered_models_created", "registered_models",
                    ["creation_timestamp"])
    op.create_index("ix_registered_models_updated", "registered_models",
                    ["last_updated_timestamp"])
    op.create_table(
        "registered_model_tags",
        _name(),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("name", "key"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "model_versions",
        _name(),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
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
        sa.PrimaryKeyConstraint("name", "version"),
        **_TABLE_OPTIONS,
    )
    op.create_index("ix_model_versions_updated", "model_versions", ["last_updated_timestamp"])
    op.create_index("ix_model_versions_run", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        _name(),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("name", "version", "key"),
        **_TABLE_OPTIONS,
    )
    op.create_table(
        "registered_model_aliases",
        _name(),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", "alias"),
        **_TABLE_OPTIONS,
    )


def downgrade():
    for name in ("registered_model_aliases", "model_version_tags", "model_versions",
                 "registered_model_tags", "registered_models"):
        op.drop_table(name)
