"""Share links (SPEC §12): editors hand out read-only links to one page of the API."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import Editor, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.schemas import Page, ShareLinkCreate, ShareLinkCreated, ShareLinkRead
from app.services import share_links

router = APIRouter(prefix="/v1/share-links", tags=["share links"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_share_link(
    body: ShareLinkCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: Editor,
) -> ShareLinkCreated:
    """A link that opens `path` (with its query) to anyone holding it: GET only, until it
    expires or is revoked. Its token is shown this once."""
    link, url, token = share_links.create_link(session, body, who.name, settings.base_url)
    response.headers["Location"] = f"/v1/share-links/{link.id}"
    return ShareLinkCreated(**ShareLinkRead.model_validate(link).model_dump(), url=url, token=token)


@router.get("")
def list_share_links(
    session: SessionDep, _: Editor, limit: Limit = 50, cursor: Cursor = None
) -> Page[ShareLinkRead]:
    found = share_links.list_links(session, after_id(cursor), limit)
    return to_page(found, limit, ShareLinkRead.model_validate)


@router.delete("/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_share_link(link_id: str, session: SessionDep, _: Editor) -> None:
    """Revoke the link: it opens nothing from now on, in every server process."""
    share_links.revoke_link(session, link_id)
