"""The baseline: what a newsroom might write instead of Tally. Deliberately plain.

A sync FastAPI endpoint validates the same claim body with pydantic and inserts one row
with SQLAlchemy, with every library default (thread pool, connection pool, timeouts).
No figure parsing, no revisions, no outbox, no conflict detection, no auth. A second one
lists an event's claims the plain way: ORM objects through a `response_model` (issue 20).
Run: BENCH_DATABASE_URL=sqlite:///x.db uvicorn bench.naive_app:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, HttpUrl
from sqlalchemy import JSON, Date, DateTime, String, Text, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine(os.environ.get("BENCH_DATABASE_URL", "sqlite:///./naive.db"))
SessionLocal = sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class NaiveClaim(Base):
    __tablename__ = "naive_claim"
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(100), index=True)
    metric: Mapped[str] = mapped_column(String(100))
    population: Mapped[str] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    figure: Mapped[Any] = mapped_column(JSON)
    as_of: Mapped[date | None] = mapped_column(Date)
    claimant: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(2000))
    quote: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cites: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str
    metric: str
    population: str = "all"
    location: str | None = None
    figure: str | dict[str, int | str | None]
    as_of: date | None = None
    claimant: str
    source: str
    url: HttpUrl | None = None
    quote: str | None = None
    published_at: datetime | None = None
    cites: str | None = None
    note: str | None = None


class ClaimOut(ClaimIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    # At start-up, not at import: the bench imports the table to load the listing's claims.
    Base.metadata.create_all(engine)
    yield


app = FastAPI(title="naive claims", lifespan=lifespan)


def get_db() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/claims", status_code=201)
def create_claim(claim: ClaimIn, db: Annotated[Session, Depends(get_db)]) -> ClaimOut:
    row = NaiveClaim(**claim.model_dump(mode="json") | {"as_of": claim.as_of})
    row.published_at = claim.published_at
    db.add(row)
    db.commit()
    db.refresh(row)
    return ClaimOut.model_validate({**claim.model_dump(), "id": row.id})


@app.get("/v1/events/{slug}/claims", response_model=list[ClaimOut])
def event_claims(slug: str, db: Annotated[Session, Depends(get_db)]) -> Any:
    return db.scalars(select(NaiveClaim).where(NaiveClaim.event == slug)).all()
