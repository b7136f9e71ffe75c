"""The live-mode and self check-in panel of the session page: what it needs, read once."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from attendance.checkin import review
from attendance.checkin import services as checkin
from attendance.live import services as live
from attendance.models import AttendanceSession

register = template.Library()


@register.simple_tag
def live_panel(session: AttendanceSession) -> dict[str, Any]:
    """Settings and state for templates/attendance/includes/live.html."""
    return {
        "run": live.live_run_current(session=session),
        "min_frames": settings.LIVE_MIN_FRAMES,
        "max_seconds": settings.LIVE_MAX_SECONDS,
        "window": checkin.checkin_window_open(session=session),
        "rotate_seconds": settings.CHECKIN_QR_ROTATE_SECONDS,
        "window_minutes": settings.CHECKIN_WINDOW_MINUTES,
        "attempts": checkin.checkin_attempts(session=session)[:50],
        "review": review.checkin_review_list(session=session),
        "count": review.checkin_camera_count(session=session),
    }
