"""A claim as schema.org ClaimReview JSON-LD, with the fields Google's Fact Check Tools read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import Reader, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.domain.model import Claim
from app.domain.review import BEST_RATING, WORST_RATING
from app.services import reviews
from app.services.reviews import Review

router = APIRouter(prefix="/v1/claims", tags=["claims"], responses=ERROR_RESPONSES)

# Words that make a claimant an Organization rather than a Person (a claimant is free text).
ORGANIZATION_WORDS = frozenset((
    "ministry", "department", "agency", "office", "government", "authorities", "authority",
    "police", "army", "military", "forces", "defence", "defense", "council", "committee",
    "commission", "service", "services", "organization", "organisation", "union", "nations",
    "un", "who", "cross", "crescent", "hospital", "health", "news", "tv", "radio", "press",
    "bureau", "institute", "centre", "center", "group", "association", "court", "parliament",
    "state", "media",
))  # fmt: skip


class JsonLDResponse(JSONResponse):
    media_type = "application/ld+json"

    def render(self, content: Any) -> bytes:
        # Safe to paste into an HTML <script type="application/ld+json">: no text can close
        # the element or open another (JSON allows these escapes in any string).
        body = super().render(content)
        return body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


class Node(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)
    type: str = Field(alias="@type")


class Party(Node):
    name: str
    url: str | None = None


class CreativeWork(Node):
    url: str
    publisher: Party | None = None


class ClaimLD(Node):
    author: Party
    datePublished: str
    appearance: CreativeWork | None = None


class Rating(Node):
    alternateName: str
    name: str
    ratingValue: int
    bestRating: int
    worstRating: int
    ratingExplanation: str


class ClaimReview(BaseModel):
    model_config = Node.model_config
    context: str = Field("https://schema.org", alias="@context")
    type: str = Field("ClaimReview", alias="@type")
    url: str
    claimReviewed: str
    itemReviewed: ClaimLD
    reviewRating: Rating
    author: Party
    datePublished: str


@router.get(
    "/{claim_id}/claimreview",
    response_class=JsonLDResponse,
    response_model_exclude_none=True,
)
def claim_review(
    claim_id: str, session: SessionDep, settings: SettingsDep, _: Reader
) -> ClaimReview:
    """Tally's finding about a claim as ClaimReview JSON-LD (application/ld+json)."""
    review = reviews.review_claim(session, claim_id)
    author = Party(
        type="Organization", name=settings.claimreview_author, url=settings.claimreview_author_url
    )
    url = f"{settings.base_url}/v1/claims/{review.claim.id}"  # never the request's Host header
    return as_claim_review(review, url, author)


def as_claim_review(review: Review, url: str, author: Party) -> ClaimReview:
    """The review as schema.org ClaimReview; `url` is the claim's own address."""
    claim, found = review.claim, review.verdict
    rating = Rating(
        type="Rating",
        alternateName=found.label,
        name=found.label,
        ratingValue=found.rating,
        bestRating=BEST_RATING,
        worstRating=WORST_RATING,
        ratingExplanation=found.explanation,
    )
    return ClaimReview(
        url=url,
        claimReviewed=claim.quote or statement(claim),
        itemReviewed=ClaimLD(
            type="Claim",
            author=party(claim.claimant, review.publisher),
            datePublished=(claim.published_at or claim.as_of).isoformat(),
            appearance=_appearance(claim.url, review.publisher),
        ),
        reviewRating=rating,
        author=author,
        datePublished=review.reviewed_at.isoformat(),
    )


def statement(claim: Claim) -> str:
    """The claim in a line: `at least 164 deaths (civilians) in Almaty, as of 2022-01-09`."""
    metric = claim.metric.replace("_", " ")
    population = "" if claim.population == "all" else f" ({claim.population})"
    place = f" in {claim.location}" if claim.location else ""
    return f"{claim.figure.text} {metric}{population}{place}, as of {claim.as_of}"


def party(claimant: str, publisher: str) -> Party:
    """The claimant as an Organization (a body, or the publisher itself) or else a Person."""
    words = set(claimant.casefold().replace("'s", "").split())
    body = words & ORGANIZATION_WORDS or claimant.casefold() == publisher.casefold()
    return Party(type="Organization" if body else "Person", name=claimant)


def _appearance(url: str | None, publisher: str) -> CreativeWork | None:
    if url is None:
        return None
    return CreativeWork(
        type="CreativeWork", url=url, publisher=Party(type="Organization", name=publisher)
    )
