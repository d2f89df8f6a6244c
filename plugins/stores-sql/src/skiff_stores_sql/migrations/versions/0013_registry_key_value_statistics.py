"""PostgreSQL only: extended statistics on (key, value) of the registry's tag tables, as 0006
gave params and tags. The planner took tags.tier = 'gold' for a third of its real count
among registered models, expected fewer matches than a page, and hash-joined every tier
tag (6.9 ms) where walking the names and merging takes 3.0 ms. Other databases keep no
such statistics; nothing changes there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# as schema.KEY_VALUE_STATISTICS adds at this revision (a migration never changes)
STATISTICS = {"registered_model_tags": "st_registered_model_tags_key_value",
              "model_version_tags": "st_model_version_tags_key_value"}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, statistics in STATISTICS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {statistics} (mcv, dependencies) "
                   f"ON key, value FROM {table}")
        op.execute(f"ANALYZE {table}")  # fill them now, not at the next autoanalyze


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statistics in STATISTICS.values():
        op.execute(f"DROP STATISTICS IF EXISTS {statistics}")
