"""The --date option of the daily commands (school time)."""

from __future__ import annotations

import datetime

from django.core.management.base import CommandError

from school.clock import school_today


def parse_day(value: str | None) -> datetime.date:
    if not value:
        return school_today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r}: use YYYY-MM-DD") from None
