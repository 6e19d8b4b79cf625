"""The sessions that services work in, named for the layers above them.

Routes and middleware hold a Session only to hand it to a service, which owns its
transaction; they name its type from here rather than from SQLAlchemy, whose queries are
not theirs to make.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from app.db import ReadSessions

__all__ = ["ReadSessions", "Session", "SessionFactory"]

SessionFactory = sessionmaker[Session]
