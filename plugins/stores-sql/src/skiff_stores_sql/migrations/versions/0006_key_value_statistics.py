"""PostgreSQL only: extended statistics on (key, value) of params and tags, so the planner
knows how common a value is for one key. Without them it multiplied the two selectivities
and, for params.alpha = '0.1' over 100,000 runs, expected 3,300 rows instead of 20,000:
it scanned all params and sorted, 131 ms, where walking the order's index takes 62 ms.
Other databases keep no such statistics; nothing changes there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# as schema.KEY_VALUE_STATISTICS at this revision (a migration never changes)
KEY_VALUE_STATISTICS = {"params": "st_params_key_value", "tags": "st_tags_key_value"}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, statistics in KEY_VALUE_STATISTICS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {statistics} (mcv, dependencies) "
                   f"ON key, value FROM {table}")
        op.execute(f"ANALYZE {table}")  # fill them now, not at the next autoanalyze


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statistics in KEY_VALUE_STATISTICS.values():
        op.execute(f"DROP STATISTICS IF EXISTS {statistics}")
