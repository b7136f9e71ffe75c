"""Parsing ids that come from people (query strings, form fields, CSV cells)."""

from __future__ import annotations

# The largest id a 64-bit integer column holds (SQLite and PostgreSQL bigint): beyond it SQLite
# raises OverflowError instead of finding nothing.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """A database id written in ASCII digits, or None. `str.isdigit()` alone accepts "¹" and "٣",
    which int() then refuses or reads as another number."""
    text = str(value).strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
