"""Runs carry their latest metrics as one JSON text (``runs.latest_metrics_doc``), so a
page of runs reads them with its own rows instead of one more query of ~5,000 rows a
1,000-run page (``_latest_metrics_doc``). Existing runs get theirs from the latest_metrics
table here.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    long_text = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
    op.add_column("runs", sa.Column("latest_metrics_doc", long_text))
    from skiff_stores_sql._latest_metrics_doc import backfill

    backfill(op.get_bind())


def downgrade():
    op.drop_column("runs", "latest_metrics_doc")
