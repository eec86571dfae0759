"""Alembic revisions of the schema (see outage.migrations)."""
