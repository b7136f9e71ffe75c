"""Writes of attendance: sessions, records, corrections, finalising (classroom photos:
`attendance.photos.services`).

The page, the REST API and the commands call these functions, so each rule lives here once.
Recognition runs before any write: when it fails (the service is down, the photo is unusable)
nothing of the session has changed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, SessionPhoto
from attendance.register import notices as notifications
from classes.models import Course
from school.errors import DomainError, ErrorKind

logger = logging.getLogger(__name__)

Status = AttendanceRecord.Status
Source = AttendanceRecord.Source
# Statuses a person may set; `pending` and `unmarked` only come from the machine.
MANUAL_STATUSES = (Status.PRESENT, Status.LATE, Status.ABSENT, Status.EXCUSED)
ATTENDING = (Status.PRESENT, Status.LATE)

# Told, after the commit, that a person vouched for a classroom face as a student's (a pending match
# confirmed, an unknown face assigned): (detected face id, student id, by). The photos capability fills
# this in (AppConfig.ready()) to learn the face; the register stands below photos and cannot call it.
FaceVouchedListener = Callable[[int, int, User | None], object]
_face_vouched_listeners: list[FaceVouchedListener] = []


def face_vouched_listener_register(listener: FaceVouchedListener) -> None:
    if listener not in _face_vouched_listeners:
        _face_vouched_listeners.append(listener)


# --- sessions ---------------------------------------------------------------------------------


def session_create(*, course: Course, date: datetime.date, label: str = "", by: User | None,
                   starts_at: datetime.time | None = None) -> AttendanceSession:
    """Opens a session with one `unmarked` record per enrolled student; with `starts_at` (school time)
    lateness is judged from it. SESSION_EXISTS (409) when the course already has a session with that
    date and label."""
    try:
        with transaction.atomic():
            session = AttendanceSession.objects.create(course=course, date=date, label=label.strip(), created_by=by,
                                                       starts_at=starts_at)
            records_ensure(session)
    except IntegrityError:
        existing = AttendanceSession.objects.get(course=course, date=date, label=label.strip())
        raise DomainError("This course already has a session on that date with that label.",
                          error_code="SESSION_EXISTS", kind=ErrorKind.CONFLICT,
                          details={"session_id": existing.pk}) from None
    return session


def session_get_or_create_today(*, course: Course, by: User | None) -> AttendanceSession:
    """Today's unlabelled session of the course (the one-shot endpoint and command use it)."""
    today = timezone.localdate()
    session = AttendanceSession.objects.filter(course=course, date=today, label="").first()
    if session is not None:
        return session
    try:
        return session_create(course=course, date=today, by=by)
    except DomainError:  # created concurrently
        return AttendanceSession.objects.get(course=course, date=today, label="")


def records_ensure(session: AttendanceSession) -> None:
    """One record per student enrolled now: students enrolled after the session opened get one, and
    untouched records of students who left the course are dropped (no absence e-mail for them)."""
    have = set(session.records.values_list("student_id", flat=True))
    enrolled = set(session.course.enrollments.values_list("student_id", flat=True))
    gone = have - enrolled
    if gone:
        session.records.filter(student_id__in=gone, status=Status.UNMARKED, source=Source.NONE).delete()
    AttendanceRecord.objects.bulk_create(
        [AttendanceRecord(session=session, student_id=sid) for sid in enrolled if sid not in have],
        ignore_conflicts=True)


def require_open(session: AttendanceSession) -> None:
    if not session.is_open:
        raise DomainError("This session is finalised; only corrections can change it.",
                          error_code="SESSION_FINALIZED", kind=ErrorKind.CONFLICT)


# --- corrections and unknown faces ------------------------------------------------------------


@transaction.atomic
def record_correct(*, record: AttendanceRecord, status: str, by: User | None, note: str = "",
                   source: str = Source.MANUAL, expected_status: str | None = None,
                   vouches: bool = True) -> AttendanceRecord:
    """Sets a record's status by hand, audited (who, when, old → new, note). Allowed on finalised
    sessions too: corrections are how a final record changes. With `expected_status` (a decision
    taken on what a page showed), RECORD_CHANGED (409) when the record has changed meanwhile.

    A record whose evidence is a classroom face and that becomes present or late (from pending,
    not seen, absent or excused) is a person vouching for that face: the face-vouched listeners run
    after the commit (the face may be learned). `vouches=False` for decisions taken without looking
    (finalising with "resolve pending as present")."""
    if status not in MANUAL_STATUSES:
        raise DomainError(f"Status must be one of {', '.join(MANUAL_STATUSES)}.", error_code="INVALID_STATUS")
    record = AttendanceRecord.objects.select_for_update().get(pk=record.pk)
    if expected_status is not None and record.status != expected_status:
        raise DomainError(f"This record is now {record.get_status_display().lower()}: someone decided meanwhile. "
                          "Look again before changing it.", error_code="RECORD_CHANGED",
                          kind=ErrorKind.CONFLICT)
    correction = AttendanceCorrection.objects.create(record=record, old_status=record.status, new_status=status,
                                                     note=note.strip(), changed_by=by)
    vouched = vouches and record.face_id is not None and status in ATTENDING and record.status not in ATTENDING
    record.status = status
    record.source = source
    record.save(update_fields=["status", "source", "updated_at"])
    if vouched:
        for listener in _face_vouched_listeners:
            transaction.on_commit(partial(listener, cast(int, record.face_id), record.student_id, by), robust=True)
    # A guardian told of an absence hears of its correction, in this same transaction (outbox).
    notifications.correction_follow_up(record=record, correction=correction)
    return record


# --- finalising -------------------------------------------------------------------------------


@dataclass
class FinalizeResult:
    session: AttendanceSession
    absent: list[AttendanceRecord]
    resolved: list[AttendanceRecord]
    emails_sent: int = 0


def session_finalize(*, session: AttendanceSession, by: User | None, resolve_pending: str | None = None,
                     note: str = "") -> FinalizeResult:
    """Closes the session: unseen students become absent; e-mails to guardians of absent students and
    to the teacher (low attendance) are queued in the outbox with the decision and sent after the commit.

    Refused with PENDING_RECORDS (409, listing them) while pending records remain, unless
    `resolve_pending` is `present` or `absent` (applied to each, audited)."""
    with transaction.atomic():
        # Only the session's own row and its records are locked (`of`): locking the joined course and
        # teacher rows would block, and deadlock with, any write that references the teacher.
        session = (AttendanceSession.objects.select_for_update(of=("self",)).select_related("course__teacher")
                   .get(pk=session.pk))
        require_open(session)
        _require_photos_processed(session)
        records_ensure(session)
        # Locked as they are read: a correction committed between this read and the update below
        # would otherwise be overwritten (the audit saying present, the record absent).
        records = list(session.records.select_for_update(of=("self",)).select_related("student"))
        pending = [r for r in records if r.status == Status.PENDING]
        if pending and resolve_pending not in (Status.PRESENT, Status.ABSENT):
            raise DomainError(
                f"{len(pending)} match(es) still need a decision. Confirm or reject them, or say how to "
                "resolve them (resolve_pending = present or absent).", error_code="PENDING_RECORDS",
                kind=ErrorKind.CONFLICT,
                details={"pending": [{"student": r.student_id, "name": r.student.full_name, "distance": r.distance}
                                     for r in pending]})
        before = notifications.attendance_rates(course=session.course, students=[r.student for r in records],
                                                exclude_session=session)
        resolved = [record_correct(record=r, status=cast(str, resolve_pending), by=by,
                                   note=note or f"Pending match resolved as {resolve_pending} on finalise",
                                   source=Source.MANUAL, vouches=False) for r in pending]
        absent = [r for r in records if r.status == Status.UNMARKED]
        AttendanceRecord.objects.filter(pk__in=[r.pk for r in absent], status=Status.UNMARKED).update(
            status=Status.ABSENT, updated_at=timezone.now())
        for record in absent:
            record.status = Status.ABSENT
        session.state = AttendanceSession.State.FINALIZED
        session.finalized_by, session.finalized_at = by, timezone.now()
        session.save(update_fields=["state", "finalized_by", "finalized_at"])
        all_absent = [r for r in records if r.status == Status.ABSENT] + [
            r for r in resolved if r.status == Status.ABSENT]
        # The e-mails are outbox rows written in this transaction, sent once it commits (never lost).
        notifications.session_finalized(session_id=session.pk, before=before)
    return FinalizeResult(session=session, absent=all_absent, resolved=resolved)


def _require_photos_processed(session: AttendanceSession) -> None:
    busy = list(session.photos.filter(state__in=SessionPhoto.ACTIVE_STATES).values("id", "state"))
    if busy:
        raise DomainError(
            f"{len(busy)} photo(s) of this session are still being processed; finalise when they are done, "
            "so that nobody they show is marked absent.", error_code="PHOTOS_PROCESSING",
            kind=ErrorKind.CONFLICT, details={"photos": busy})



def sessions_delete(*, sessions: QuerySet[AttendanceSession]) -> int:
    """Deletes sessions (a course's, when the course goes) and their classroom photos in storage,
    once the deletion is committed."""
    files = [(file.storage, file.name) for photo in SessionPhoto.objects.filter(session__in=sessions)
             for file in (photo.image, photo.upload) if file.name]
    deleted, _ = AttendanceSession.objects.filter(pk__in=sessions.values("pk")).delete()
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))
    return deleted


def course_sessions_delete(course: Course) -> int:
    """A course's sessions and their photos, deleted with the course (registered with classes)."""
    return sessions_delete(sessions=AttendanceSession.objects.filter(course=course))

