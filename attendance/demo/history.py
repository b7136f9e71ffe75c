"""A demo school's history: a term, a holiday and a few weeks of finalised registers with a realistic mix
(most pupils present, one often late, one at risk), so dashboards, reports and PDFs are not empty.
Bulk inserts: a few thousand rows in well under a second."""

from __future__ import annotations

import datetime
import random

from django.db import transaction

from accounts.models import User
from attendance.models import AttendanceRecord, AttendanceSession
from classes.models import Course
from school.calendar import is_school_day
from school.clock import school_datetime, school_today
from school.models import Closure, Term

Status = AttendanceRecord.Status

# Per pupil (by position in the course, alphabetical): chances of absent, late, excused; the rest present.
PROFILES = [(0.40, 0.05, 0.02), (0.05, 0.30, 0.02)]
# The third pupil has been away for the last few school days (the office's "absences in a row").
AWAY_INDEX, AWAY_DAYS = 2, 3
TYPICAL = (0.04, 0.05, 0.02)


def _status(rng: random.Random, profile: tuple[float, float, float]) -> str:
    absent, late, excused = profile
    roll = rng.random()
    if roll < absent:
        return Status.ABSENT
    if roll < absent + late:
        return Status.LATE
    if roll < absent + late + excused:
        return Status.EXCUSED
    return Status.PRESENT


@transaction.atomic
def demo_calendar(*, today: datetime.date) -> int:
    """A term around today and a training day two weeks ago (when the school has no calendar yet)."""
    if Term.objects.exists():
        return 0
    Term.objects.create(name="Demo term", starts_on=today - datetime.timedelta(days=70),
                        ends_on=today + datetime.timedelta(days=60))
    holiday = today - datetime.timedelta(days=14)
    while holiday.weekday() >= 5:
        holiday -= datetime.timedelta(days=1)
    Closure.objects.create(name="Staff training day", kind=Closure.Kind.CLOSURE, starts_on=holiday, ends_on=holiday)
    return 2


@transaction.atomic
def demo_history(*, courses: list[Course], by: User, weeks: int = 4, seed: int = 7,
                 today: datetime.date | None = None) -> tuple[int, int]:
    """Finalised sessions for every timetable slot of the past `weeks` school days (today excluded, so
    today's registers are still to take); slots that already have a session are left alone. Returns
    (sessions, records) created."""
    today = today or school_today()
    rng = random.Random(seed)
    days = [today - datetime.timedelta(days=n) for n in range(weeks * 7, 0, -1)]
    days = [day for day in days if is_school_day(day)]
    existing = set(AttendanceSession.objects.filter(course__in=courses, date__in=days, slot__isnull=False)
                   .values_list("slot_id", "date"))
    pupils = {course.pk: list(course.students.order_by("last_name", "first_name")) for course in courses}
    plans = []
    for course in courses:
        if not pupils[course.pk]:
            continue
        for slot in course.timetable_slots.all():
            for day in days:
                if day.weekday() == slot.weekday and (slot.pk, day) not in existing:
                    plans.append((course, slot, day))
    finalised_at = school_datetime(today, datetime.time(7, 0))
    sessions = AttendanceSession.objects.bulk_create([
        AttendanceSession(course=course, date=day, label=slot.session_label, slot=slot, starts_at=slot.start_time,
                          state=AttendanceSession.State.FINALIZED, created_by=by, finalized_by=by,
                          finalized_at=finalised_at) for course, slot, day in plans])
    away = set(sorted({day for _, _, day in plans})[-AWAY_DAYS:])  # the last days with lessons
    records = []
    for session, (course, slot, day) in zip(sessions, plans, strict=True):
        start = school_datetime(day, slot.start_time)
        for index, pupil in enumerate(pupils[course.pk]):
            status = _status(rng, PROFILES[index] if index < len(PROFILES) else TYPICAL)
            if index == AWAY_INDEX and day in away:
                status = Status.ABSENT
            seen = None
            if status == Status.PRESENT:
                seen = start + datetime.timedelta(minutes=rng.randint(-5, 9))
            elif status == Status.LATE:
                seen = start + datetime.timedelta(minutes=rng.randint(11, 30))
            records.append(AttendanceRecord(
                session=session, student=pupil, status=status,
                source=AttendanceRecord.Source.MANUAL if seen is None else AttendanceRecord.Source.FACE,
                seen_at=seen, seen_at_source="upload" if seen else ""))
    AttendanceRecord.objects.bulk_create(records, batch_size=1000)
    return len(sessions), len(records)
