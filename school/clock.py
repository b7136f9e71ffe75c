"""School time: one time zone (settings.TIME_ZONE, set by SCHOOL_TIME_ZONE) for every "today",
period, lateness and report."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


def school_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def school_now(now: datetime.datetime | None = None) -> datetime.datetime:
    """Now (or `now`) as an aware datetime in the school's time zone."""
    return (now or timezone.now()).astimezone(school_tz())


def school_today(now: datetime.datetime | None = None) -> datetime.date:
    return school_now(now).date()


def school_datetime(day: datetime.date, at: datetime.time) -> datetime.datetime:
    """A wall-clock time of the school on a day, as an aware datetime (DST handled by zoneinfo)."""
    return datetime.datetime.combine(day, at, tzinfo=school_tz())


def school_time_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the pages show which time zone their times are in."""
    return {"SCHOOL_TIME_ZONE": settings.TIME_ZONE}
