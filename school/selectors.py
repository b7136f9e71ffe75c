"""Reads of the school's own records."""

from __future__ import annotations

from school.models import SchoolSettings


def school_settings_get() -> SchoolSettings:
    """The school-wide attendance options (the one row, created with defaults when missing)."""
    settings_row = SchoolSettings.objects.order_by("pk").first()
    return settings_row or SchoolSettings.objects.create()
