"""Corroboration of self check-ins (SPEC §9): what the teacher sees and decides on the session page.

A self check-in says a live face was at a phone on the school's network, not that the student is in
this room. Two things corroborate it: the classroom camera (a photo or live frame in which the student
is recognised marks the record from the room: `attendance.photos`, `attendance.live`), and the teacher's
one-tap review of the selfies of the check-ins still pending. And the page says when there are more
check-ins than faces the camera counted in the room.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from accounts.models import User
from attendance.models import AttendanceRecord, AttendanceSession, CheckinAttempt, SessionPhoto
from attendance.register import lateness
from attendance.register.services import record_correct
from school.errors import DomainError, ErrorKind

Status = AttendanceRecord.Status
Source = AttendanceRecord.Source
Outcome = CheckinAttempt.Outcome
DECISIONS = ("present", "absent")


def checkin_review_list(*, session: AttendanceSession) -> list[CheckinAttempt]:
    """The pending self check-ins whose record still waits: the selfie grid of the session page."""
    return list(CheckinAttempt.objects.filter(session=session, outcome=Outcome.PENDING,
                                              record__status=Status.PENDING, record__source=Source.SELF)
                .select_related("student", "record").order_by("created_at", "id"))


@dataclass(frozen=True)
class CameraCount:
    """Self check-ins against the most faces the camera counted in one photo or live frame of the
    session (None when it has taken none)."""

    checkins: int
    camera_faces: int | None

    @property
    def outnumbered(self) -> bool:
        return self.camera_faces is not None and self.checkins > self.camera_faces


def checkin_camera_count(*, session: AttendanceSession) -> CameraCount:
    checkins = CheckinAttempt.objects.filter(session=session, outcome__in=(Outcome.PRESENT, Outcome.PENDING)).count()
    most = SessionPhoto.objects.filter(session=session).aggregate(most=Max("face_count"))["most"]
    return CameraCount(checkins=checkins, camera_faces=most)


@transaction.atomic
def checkin_review_decide(*, attempt: CheckinAttempt, decision: str, by: User) -> AttendanceRecord:
    """The teacher's one tap on a pending check-in's selfie: `present` (late when the check-in came
    after the period's grace) or `absent`, recorded as the teacher's decision (audited correction).
    CHECKIN_NOT_PENDING (409) when the check-in or its record no longer waits."""
    if decision not in DECISIONS:
        raise DomainError("Decide present or absent.", error_code="INVALID_DECISION")
    record = (AttendanceRecord.objects.select_for_update().select_related("session__course")
              .filter(pk=attempt.record_id).first()) if attempt.record_id is not None else None
    if attempt.outcome != Outcome.PENDING or record is None or record.status != Status.PENDING:
        raise DomainError("This check-in no longer waits for a decision.", error_code="CHECKIN_NOT_PENDING",
                          kind=ErrorKind.CONFLICT)
    status = lateness.arrival_status(record, lateness.late_after(record.session)) if decision == "present" \
        else Status.ABSENT
    return record_correct(record=record, status=status, by=by, expected_status=Status.PENDING,
                          note="Self check-in: " + ("the teacher confirmed the selfie" if decision == "present"
                                                    else "the teacher did not see the student"))
