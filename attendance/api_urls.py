"""Attendance endpoints under /api/v1/ (sessions, photos, records, one-shot marking, reports)."""

from __future__ import annotations

urlpatterns: list = []
