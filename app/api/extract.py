"""Extraction: the claims an article seems to state, proposed for a person to check."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Reader, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.extraction import MAX_SENTENCE_CHARS
from app.extraction.rules import TIME_BUDGET_SECONDS
from app.schemas import MAX_ARTICLE_CHARS, MAX_CANDIDATES, ExtractBody, Extraction
from app.services import extraction

router = APIRouter(prefix="/v1/extract", tags=["extraction"], responses=ERROR_RESPONSES)

DESCRIPTION = f"""\
Stores nothing. A candidate's `metric` is null when no built-in metric clearly applies, its
`claimant` null when the article attributes the figure to no one; post `figure.text` as the
figure, and leave out `kind`, `span`, `confidence` and `why`.

Only candidates of `kind` `count` are ready to post. An `increment` ("the toll rose to 14
after two more bodies were found": the 2) and a `forecast` ("the toll could reach 20,000")
are proposed so that an editor sees them for what they are, never as totals: do not post
them as claims.

Limits, so that every answer is quick and small:

- the text is at most {MAX_ARTICLE_CHARS:,} characters (longer is a 422);
- the answer holds at most {MAX_CANDIDATES} candidates, those of the first sentences, and
  `truncated` is true when the text holds more: send the text from the end of the last
  candidate's span to read on;
- a sentence over {MAX_SENTENCE_CHARS:,} characters is read and quoted in pieces cut at a
  space, each with its own span;
- reading takes time in proportion to the text, well under a second for the longest
  article; a text that still takes more than {TIME_BUDGET_SECONDS:g} s of CPU time to read
  is refused with a 413 problem (send it in smaller parts), never answered in part.
"""


@router.post("", description=DESCRIPTION)
def extract_claims(
    body: ExtractBody, session: SessionDep, settings: SettingsDep, _: Reader
) -> Extraction:
    """Propose the claims in an article's text, each ready to check and post to /v1/claims."""
    return extraction.extract(session, body, settings.figure_tolerance)
