"""Alembic's environment: the revisions run on the connection `outage.migrations.upgrade`
hands over, inside the transaction that connection already holds."""

from __future__ import annotations

from alembic import context


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("as migrações rodam por outage.migrations.upgrade(), numa conexão aberta")
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


run()
