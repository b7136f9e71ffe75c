"""The one rule of a recognised face (SPEC §3, §4): it marks the student's record present, or late when
first seen after the grace, when recognition is sure; pending when it is not. Classroom photos, live mode
and self check-in all mark through `record_mark_seen`; none of them overrides a teacher's decision."""

from __future__ import annotations

import datetime

from attendance.models import AttendanceRecord, DetectedFace
from attendance.register import lateness

Status = AttendanceRecord.Status
Source = AttendanceRecord.Source
# The fields `record_mark_seen` writes (for callers that save several records at once).
MARKED_FIELDS = ["status", "source", "distance", "face", "reason", "confident_threshold", "uncertain_threshold",
                 "seen_at", "seen_at_source", "updated_at"]


def record_mark_seen(*, record: AttendanceRecord, sure: bool, source: str, deadline: datetime.datetime | None,
                     thresholds: tuple[float, float], distance: float | None, face: DetectedFace | None = None,
                     reason: str = "") -> None:
    """Marks a record from a recognised face: present or late (from the first sighting, already noted
    with `lateness.note_seen`) when `sure`, else pending; keeps the evidence (source, distance, face,
    reason, the thresholds in force). The caller has checked that the record is not the teacher's and
    saves it (in its transaction, under the record's lock)."""
    record.status = lateness.arrival_status(record, deadline) if sure else Status.PENDING
    record.source = source
    record.distance = distance
    record.face = face
    record.reason = reason[:200]
    record.confident_threshold, record.uncertain_threshold = thresholds


def is_teachers(record: AttendanceRecord) -> bool:
    """A teacher's manual decision: no machine evidence changes it."""
    return record.source == Source.MANUAL
