"""Alembic migrations of the SQL tracking store (run them with ``skiff db upgrade <url>``)."""
