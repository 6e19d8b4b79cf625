"""Every query of Tally, one module per noun: rows in and out, lookups by the names clients use."""

from app.repository import (
    claims,
    common,
    conflicts,
    idempotency,
    keys,
    resources,
    webhooks,
)

__all__ = ["claims", "common", "conflicts", "idempotency", "keys", "resources", "webhooks"]
