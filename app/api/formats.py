"""Reports as CSV (safe for spreadsheets) and Markdown (readable as-is)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

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
]  # fmt: skip


def report_csv(report: dict[str, Any]) -> str:
    """One row per claim, with its group's range, consensus and open conflict count."""
    return "".join(csv_rows(REPORT_COLUMNS, _report_rows(report)))


def _report_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    for group in report["groups"]:
        latest = {entry["claim"] for entry in group["latest_by_claimant"]}
        bounds = [*_bounds(group["range"]), *_bounds(group["consensus"])]
        for claim in group["claims"]:
            yield [
                report["event"], group["metric"], group["population"], group["location"],
                claim["id"], claim["claimant"], claim["source"], claim["figure"]["text"],
                claim["figure"]["low"], claim["figure"]["high"], claim["as_of"], claim["status"],
                claim["disputed"], claim["superseded_by"], claim["id"] in latest,
                *bounds, len(group["conflicts"]),
            ]  # fmt: skip


def _bounds(interval: dict[str, Any] | None) -> list[Any]:
    return [None, None] if interval is None else [interval["low"], interval["high"]]


def report_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown an editor can read or paste."""
    stamp = report["as_of"] or report["generated_at"]
    lines = [f"# Figures for {_md(report['event'])}", "", f"As the ledger stood at {stamp}.", ""]
    totals = ", ".join(f"{kind}: {n}" for kind, n in report["open_conflicts"].items())
    lines += [f"Open conflicts: {totals or 'none'}.", ""]
    for group in report["groups"]:
        lines += _group_markdown(group)
    return "\n".join(lines)


def _group_markdown(group: dict[str, Any]) -> list[str]:
    where = f" in {_md(group['location'])}" if group["location"] else ""
    lines = [f"## {_md(group['metric'])} ({_md(group['population'])}){where}", ""]
    lines += [
        f"- Range of the latest figures: {_interval(group['range'])}",
        f"- Consensus: {_interval(group['consensus'])}",
        f"- Independent origins: {group['independent_origins']}",
        "",
        "| Claimant | Figure | As of | Source | Status |",
        "|---|---|---|---|---|",
    ]
    for claim in group["claims"]:
        flags = claim["status"] + (", disputed" if claim["disputed"] else "")
        flags += f", superseded by {claim['superseded_by']}" if claim["superseded_by"] else ""
        cells = [claim["claimant"], claim["figure"]["text"], claim["as_of"], claim["source"], flags]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    lines.append("")
    lines += [f"- **{c['kind']}** ({c['status']}): {_md(c['detail'])}" for c in group["conflicts"]]
    return [*lines, ""] if group["conflicts"] else lines


def _interval(interval: dict[str, Any] | None) -> str:
    if interval is None:
        return "none"
    high = "open" if interval["high"] is None else f"{interval['high']:,}"
    return f"{interval['low']:,} to {high}"


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
