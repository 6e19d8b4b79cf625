"""API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, select

from app import models


def api_key_by_hash(connection: Connection, key_hash: str) -> Row[str, str, datetime | None] | None:
    """The name, role and revoked_at of the key with that hash (every request asks)."""
    k = models.ApiKey
    query = select(k.name, k.role, k.revoked_at).where(k.key_hash == key_hash)
    return connection.execute(query).first()
