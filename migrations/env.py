"""Alembic environment: the URL comes from Tally's settings, or from a caller's connection."""

from alembic import context
from sqlalchemy import Connection, create_engine

import app.models  # noqa: F401  (registers the tables)
from app.config import get_settings
from app.db import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    with create_engine(get_settings().database_url).connect() as conn:
        run_migrations(conn)
