"""The lateness rule: a student first recognised in a photo taken after the period's start plus the
teacher's grace is `late`, not `present` (SPEC §3)."""

from __future__ import annotations

import datetime

from accounts.selectors import teacher_settings_get
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register.capture_time import CaptureTime
from school.clock import school_datetime

Status = AttendanceRecord.Status


def late_after(session: AttendanceSession) -> datetime.datetime | None:
    """The moment after which a first sighting is late, or None for a session without a start time."""
    if session.starts_at is None:
        return None
    grace = teacher_settings_get(user=session.course.teacher).late_grace_minutes
    return school_datetime(session.date, session.starts_at) + datetime.timedelta(minutes=grace)


def note_seen(record: AttendanceRecord, seen: CaptureTime | None) -> bool:
    """Keeps the earliest time the student was recognised (and where that time came from); True
    when this sighting is earlier than the one kept."""
    if seen is None or (record.seen_at is not None and record.seen_at <= seen.at):
        return False
    record.seen_at, record.seen_at_source = seen.at, seen.source
    return True


def arrival_status(record: AttendanceRecord, deadline: datetime.datetime | None) -> str:
    """Present or late, from the first sighting. A sighting on another day than the session (photos
    uploaded afterwards without a usable capture time) says nothing about lateness."""
    if deadline is None or record.seen_at is None:
        return Status.PRESENT
    seen = record.seen_at.astimezone(deadline.tzinfo)
    if seen.date() != deadline.date():
        return Status.PRESENT
    return Status.LATE if seen > deadline else Status.PRESENT


def confirmed_status(record: AttendanceRecord) -> str:
    """The status of a pending match the teacher confirms: present, or late when first seen late."""
    return arrival_status(record, late_after(record.session))
