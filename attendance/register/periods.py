"""Timetable-driven sessions: taking attendance during a timetable slot opens (or reuses) that slot's
session, labelled by the slot and starting at its start time (SPEC §3)."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from accounts.models import User
from attendance.models import AttendanceSession
from attendance.register.services import records_ensure, session_get_or_create_today
from classes.models import Course, TimetableSlot
from school.calendar import is_school_day
from school.clock import school_now, school_today


def session_for_slot(*, slot: TimetableSlot, date: datetime.date, by: User | None) -> AttendanceSession:
    """The session of a timetable slot on a date, opened if needed: labelled by the slot, starting at
    its start time (lateness counts from it). A session the teacher opened by hand with the same
    label is adopted rather than duplicated."""
    course = slot.course
    session = AttendanceSession.objects.filter(course=course, date=date, slot=slot).first()
    if session is not None:
        return session
    label = slot.session_label
    try:
        with transaction.atomic():
            session, created = AttendanceSession.objects.get_or_create(
                course=course, date=date, label=label,
                defaults={"slot": slot, "starts_at": slot.start_time, "created_by": by})
            if created:
                records_ensure(session)
            elif session.slot_id is None:
                session.slot, session.starts_at = slot, session.starts_at or slot.start_time
                session.save(update_fields=["slot", "starts_at"])
    except IntegrityError:  # opened concurrently by another request
        session = AttendanceSession.objects.get(course=course, date=date, label=label)
    return session


def slot_now(*, course: Course, now: datetime.datetime | None = None) -> TimetableSlot | None:
    """The course's timetable slot running now (school time), from a quarter of an hour before its start
    (teachers photograph the room as pupils come in) to its end; None outside the timetable or on a
    day without school."""
    moment = school_now(now)
    if not is_school_day(moment.date()):
        return None
    early = (moment + datetime.timedelta(minutes=15)).time()
    return (course.timetable_slots.filter(weekday=moment.weekday(), start_time__lte=early,
                                          end_time__gt=moment.time()).order_by("start_time").first())


def session_for_now(*, course: Course, by: User | None) -> AttendanceSession:
    """Taking attendance now: the running slot's session, else today's unlabelled session."""
    slot = slot_now(course=course)
    if slot is not None:
        return session_for_slot(slot=slot, date=school_today(), by=by)
    return session_get_or_create_today(course=course, by=by)
