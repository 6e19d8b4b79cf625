"""Settings from the environment (prefix TALLY_) and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./tally.db"
    admin_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Sized together: every request thread can hold a connection, so the pool never runs
    # dry while threads wait (FastAPI #3205); past that, requests wait for a thread.
    threads: int = Field(default=32, ge=1, le=1024)
    # Requests in flight beyond which Tally answers 503 with Retry-After instead of queueing.
    max_in_flight: int = Field(default=256, ge=1)
    db_timeout_seconds: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    bulk_max_bytes: int = Field(default=20_971_520, ge=1024)
    figure_tolerance: float = Field(default=0.1, ge=0, lt=1)
    idempotency_ttl_hours: float = Field(default=24, gt=0)
    webhook_allow_private: bool = False

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("must be sqlite:///… or postgresql+psycopg://…")
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
