"""Attendance sessions, photos, records and corrections (built out with the attendance issue)."""

from __future__ import annotations
