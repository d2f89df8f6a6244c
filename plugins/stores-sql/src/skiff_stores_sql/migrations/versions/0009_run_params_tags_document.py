"""Runs carry their params and tags as one JSON text (``runs.params_tags``), so a page of
runs reads them with its own rows instead of two more queries of ~8,000 rows a 1,000-run
page (``_params_tags``). Existing runs get theirs from the params and tags tables here.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    long_text = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
    op.add_column("runs", sa.Column("params_tags", long_text))
    from skiff_stores_sql._params_tags import backfill

    backfill(op.get_bind())


def downgrade():
    op.drop_column("runs", "params_tags")
