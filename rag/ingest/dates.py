"""Publication dates: found in a dateline near the top of a text, or given in metadata."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from dateutil import parser as dateutil_parser

from rag.lexicon import MONTH_ABBREVIATIONS, alternatives

_ISO = re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_MONTHS = rf"(?:{alternatives(MONTH_ABBREVIATIONS + ('Sept',))})[a-z]*\.?"
_WORDY = re.compile(
    rf"\b(?:\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?)?",
    re.IGNORECASE,
)
# A dateline is short: "Markets 2025-11-21 10:20", "Published November 21, 2025".
_MAX_DATELINE_WORDS = 10
_DATELINE_SEARCH_LINES = 4


def parse_date(value: object) -> str | None:
    """An ISO 8601 string (seconds precision, no timezone) or None when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc).replace(tzinfo=None).isoformat(
                timespec="seconds"
            )
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    found = _find_date(value)
    if found:
        return found
    try:
        parsed = dateutil_parser.parse(value.strip(), fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return parsed.replace(tzinfo=None).isoformat(timespec="seconds")


def _find_date(text: str) -> str | None:
    match = _ISO.search(text)
    if match:
        year, _, month, day, hour, minute, second = match.groups()
        try:
            stamp = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                             int(second or 0))
        except ValueError:
            return None
        return stamp.isoformat(timespec="seconds")
    match = _WORDY.search(text)
    if match:
        try:
            parsed = dateutil_parser.parse(match.group(0).replace(" at ", " "))
        except (ValueError, OverflowError):
            return None
        return parsed.replace(tzinfo=None).isoformat(timespec="seconds")
    return None


def find_date_line(lines: list[str]) -> tuple[str | None, int | None]:
    """The date of the first short dateline among the first few non-empty lines, and its index."""
    seen = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        seen += 1
        if seen > _DATELINE_SEARCH_LINES:
            break
        if len(stripped.split()) > _MAX_DATELINE_WORDS:
            continue
        found = _find_date(stripped)
        if found:
            return found, index
    return None, None


def to_timestamp(iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        # Dates are stored without a zone; reading them as UTC keeps filters machine-independent.
        return int(datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        return None
