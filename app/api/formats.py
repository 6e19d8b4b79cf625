"""Reports as CSV (safe for spreadsheets) and Markdown (readable as-is), in words an editor
can paste."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

# Cells starting with these are formulas to a spreadsheet (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> str:
    """A CSV cell that no spreadsheet evaluates: formula-like text gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    # A spreadsheet skips leading spaces (a no-break space too) before it reads a formula.
    formula = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return "'" + text if formula else text


def csv_rows(header: list[str], rows: Iterable[list[Any]]) -> Iterable[str]:
    """CSV lines, one at a time (for streaming), every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in (header, *rows):
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


REPORT_COLUMNS = [
    "event", "metric", "population", "location", "claim", "claimant", "source", "figure",
    "low", "high", "as_of", "status", "disputed", "superseded_by", "latest",
    "group_range_low", "group_range_high", "consensus_low", "consensus_high", "group_conflicts",
    # In words, for a person: the machine columns above stay as they were.
    "event_title", "status_text", "range_text", "consensus_text", "conflicts_text",
]  # fmt: skip


def report_csv(report: dict[str, Any]) -> str:
    """One row per claim, with its group's range, consensus and open conflict count, and the
    same in words (the event's title, figures as a reader says them, the conflicts' sentences)."""
    return "".join(csv_rows(REPORT_COLUMNS, _report_rows(report)))


def _report_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    for group in report["groups"]:
        latest = {entry["claim"] for entry in group["latest_by_claimant"]}
        bounds = [*_bounds(group["range"]), *_bounds(group["consensus"])]
        words = [in_words(group["range"]), in_words(group["consensus"])]
        for claim in group["claims"]:
            yield [
                report["event"], group["metric"], group["population"], group["location"],
                claim["id"], claim["claimant"], claim["source"], claim["figure"]["text"],
                claim["figure"]["low"], claim["figure"]["high"], claim["as_of"], claim["status"],
                claim["disputed"], claim["superseded_by"], claim["id"] in latest,
                *bounds, len(group["conflicts"]),
                report.get("title", report["event"]), status_text(claim, group["claims"]),
                *words, _conflicts_text(claim["id"], group["conflicts"]),
            ]  # fmt: skip


def _bounds(interval: dict[str, Any] | None) -> list[Any]:
    return [None, None] if interval is None else [interval["low"], interval["high"]]


def _conflicts_text(claim_id: str, conflicts: list[dict[str, Any]]) -> str:
    """The sentences of the conflicts the claim takes part in, one a line."""
    return "\n".join(
        f"{conflict_label(c['kind'])} ({c['status']}): {c['detail']}"
        for c in conflicts
        if claim_id in c["claims"]
    )


# --- words -----------------------------------------------------------------------------------

CONFLICT_LABELS = {
    "value_mismatch": "Figures disagree",
    "downward_revision": "Downward revision",
    "part_exceeds_whole": "Part exceeds whole",
    "retracted_figure": "Retracted figure",
    "cites_retracted": "Cites a retracted figure",
    "disputed": "Disputed figure",
    "source_unavailable": "Source unavailable",
    "figure_not_in_source": "Figure no longer in source",
}


def conflict_label(kind: str) -> str:
    """A conflict kind as a heading says it: "Cites a retracted figure"."""
    return CONFLICT_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def in_words(interval: dict[str, Any] | None) -> str:
    """An interval as a reader says it: "225", "at least 164", "between 7,200 and 8,000"."""
    if interval is None:
        return "none (the latest figures cannot all be right)"
    low, high = interval["low"], interval["high"]
    if high is None:
        return f"at least {low:,}"
    if low == high:
        return f"{low:,}"
    if low == 0:
        return f"at most {high:,}"
    return f"between {low:,} and {high:,}"


def name_in_words(name: str) -> str:
    """A metric's or population's name as a reader says it: "troops deployed"."""
    return name.replace("_", " ")


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # fmt: skip  (not %B: that follows the process's locale)


def day_in_words(value: str | None) -> str:
    """An ISO date (or the date of an ISO moment) as "9 January 2022"."""
    if not value:
        return ""
    day = date.fromisoformat(value[:10])
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def moment_in_words(value: str) -> str:
    """An ISO moment as "1 December 2026 at 22:55 UTC" (to the minute, no microseconds)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return f"{day_in_words(moment.date().isoformat())} at {moment:%H:%M} UTC"


def status_text(claim: dict[str, Any], group: list[dict[str, Any]]) -> str:
    """The claim's state in words. A claim replaced by another that relays it (the same
    claimant's figure, repeated by another outlet) is not said to be replaced, and a retracted
    claim is only retracted."""
    if claim["status"] == "retracted":
        return "retracted" + (", disputed" if claim["disputed"] else "")
    words = ["active"] + (["disputed"] if claim["disputed"] else [])
    successor = next((c for c in group if c["id"] == claim["superseded_by"]), None)
    if successor is not None and successor["cites"] != claim["id"]:
        figure, day = successor["figure"]["text"], day_in_words(successor["as_of"])
        words.append(f"replaced by {figure} of {day}")
    elif claim["superseded_by"] is not None and successor is None:
        words.append("replaced by a newer figure")
    return ", ".join(words)


# --- Markdown --------------------------------------------------------------------------------


def report_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown an editor can read or paste: the event's title, figures and dates
    as a reader says them, each claim's quote and link, the conflicts in sentences."""
    stamp = moment_in_words(report["as_of"] or report["generated_at"])
    title = report.get("title") or report["event"]
    lines = [f"# {_md(title)}", "", f"As the ledger stood on {stamp}.", ""]
    totals = ", ".join(
        f"{conflict_label(kind).lower()} ({n})" for kind, n in report["open_conflicts"].items()
    )
    lines += [f"Open conflicts: {totals or 'none'}.", ""]
    for group in report["groups"]:
        lines += _group_markdown(group)
    return "\n".join(lines)


def _group_markdown(group: dict[str, Any]) -> list[str]:
    lines = [f"## {_md(_heading(group))}", ""]
    lines += [
        f"- Range of the latest figures: {in_words(group['range'])}",
        f"- Consensus: {in_words(group['consensus'])}",
        f"- Independent origins: {group['independent_origins']}",
        "",
        "| Claimant | Figure | As of | Source | Status |",
        "|---|---|---|---|---|",
    ]
    for claim in group["claims"]:
        cells = [
            _md(claim["claimant"]),
            _md(claim["figure"]["text"]),
            day_in_words(claim["as_of"]),
            _source(claim),
            _md(status_text(claim, group["claims"])),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    quotes = [_quote(claim) for claim in group["claims"] if claim["quote"]]
    lines += [*quotes, ""] if quotes else []
    conflicts = [
        f"- **{conflict_label(c['kind'])}** ({c['status']}): {_md(c['detail'])}"
        for c in group["conflicts"]
    ]
    return [*lines, *conflicts, ""] if conflicts else lines


def _heading(group: dict[str, Any]) -> str:
    """ "Deaths", "Deaths (security forces)", "Missing in Almaty"."""
    heading = name_in_words(group["metric"]).capitalize()
    if group["population"] != "all":
        heading += f" ({name_in_words(group['population'])})"
    return heading + (f" in {group['location']}" if group["location"] else "")


def _source(claim: dict[str, Any]) -> str:
    """The source, linked to the publication when the claim has its URL."""
    target = _link_target(claim["url"])
    return f"[{_md(claim['source'])}]({target})" if target else _md(claim["source"])


def _quote(claim: dict[str, Any]) -> str:
    said = f"{claim['claimant']} ({claim['source']}, {day_in_words(claim['as_of'])})"
    return f"- {_md(said)}: “{_md(claim['quote'])}”"


def _link_target(url: str | None) -> str | None:
    """An http(s) URL as a Markdown link destination that nothing in it can end early."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    return quote(url, safe="/:?#[]@!$&'*+,;=%~-._")


# Text is only ever put inside a line (after other text), where these are the signs that
# Markdown (CommonMark with tables) reads: escaped, no text can open HTML, a link, an
# image, emphasis or a cell; line breaks become spaces, so none can start a heading.
_ESCAPES = str.maketrans(
    {c: "\\" + c for c in "\\`*_[]|~"}
    | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
    | dict.fromkeys("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029", " ")
)


def _md(text: Any) -> str:
    """Text as inert inline Markdown: on one line, every sign Markdown reads there escaped."""
    return str(text).translate(_ESCAPES)
