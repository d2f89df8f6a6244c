"""Registered models and model versions carry their tags and aliases as one JSON text
(``tags_aliases``), so a registry page reads them with its own rows instead of one more
query over the tag and alias tables (``_registry_docs``). Existing models and versions get
theirs from those tables here.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("registered_models", "model_versions")


def upgrade():
    long_text = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
    for table in TABLES:
        op.add_column(table, sa.Column("tags_aliases", long_text))
    from skiff_stores_sql._registry_docs import backfill

    backfill(op.get_bind())


def downgrade():
    for table in TABLES:
        op.drop_column(table, "tags_aliases")
