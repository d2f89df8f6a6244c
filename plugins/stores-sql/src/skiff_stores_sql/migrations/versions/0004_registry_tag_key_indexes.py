"""Registry tag tables indexed by key: the prompt exclusion every registry search makes
(and tag filters) find the few rows of one key instead of scanning all tags, which is what
PostgreSQL did (a full scan per search, ~1.5 ms at 10k models and growing with the table).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_registered_model_tags_key", "registered_model_tags", ["key", "name"])
    op.create_index("ix_model_version_tags_key", "model_version_tags",
                    ["key", "name", "version"])


def downgrade():
    op.drop_index("ix_model_version_tags_key", "model_version_tags")
    op.drop_index("ix_registered_model_tags_key", "registered_model_tags")
