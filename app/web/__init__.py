"""The desk (SPEC §11): HTML pages for editors, a second front end on the API's services."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import claims, conflicts, embed, events, extract, signin
from app.web.pages import DeskStatic, install_error_pages

__all__ = ["DeskStatic", "install_error_pages", "router"]

router = APIRouter(include_in_schema=False)
for module in (signin, events, claims, conflicts, extract, embed):
    router.include_router(module.router)
