"""Helpers of the school-day tests: a frozen school clock and a small timetabled school.

The clock is time-machine's: frozen (tick=False), it stops every clock of the process that says what
time it is (timezone.now, datetime.now, time.time: JWTs, signed links and sessions too), not
time.monotonic. A test that uses a JWT (`teacher_api`) starts frozen with the marker
`pytest.mark.time_machine(school_time(...), tick=False)`, so that its token is issued in the frozen
time: a token issued in the real "now", later than the frozen clock, is refused as not yet valid."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pytest
from time_machine import TimeMachineFixture

from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register import services
from classes.models import Course, TimetableSlot
from tests import factories

DAY = datetime.date(2026, 11, 20)  # a Friday
LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def in_london(settings: Any) -> None:
    """The school's time zone for these tests."""
    settings.TIME_ZONE = "Europe/London"


def school_time(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A school time (Europe/London) on `day`."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def freeze(clock: TimeMachineFixture, day: datetime.date, hour: int,
           minute: int = 0) -> datetime.datetime:
    """Stops the server's clock at a school time (Europe/London) on `day` (`clock`: the time_machine
    fixture); it stands there until the next `freeze` or the end of the test."""
    moment = school_time(day, hour, minute)
    clock.move_to(moment, tick=False)
    return moment


@dataclass
class School:
    course: Course
    students: list[Any]
    slots: list[TimetableSlot]


def timetabled_course(*, teacher: Any, code: str = "HIST-8B", students: int = 3,
                      periods: tuple[tuple[int, int], ...] = ((9, 10),), weekday: int = DAY.weekday()) -> School:
    course = factories.CourseFactory(teacher=teacher, code=code, name=f"Course {code}")
    pupils = [factories.StudentFactory(first_name=f"{code.title()}{i}", last_name=f"Pupil{i}") for i in range(students)]
    for pupil in pupils:
        factories.EnrollmentFactory(course=course, student=pupil)
    slots = [TimetableSlot.objects.create(course=course, weekday=weekday, start_time=datetime.time(start),
                                          end_time=datetime.time(end), room="R1") for start, end in periods]
    return School(course=course, students=pupils, slots=slots)


def held(course: Course, day: datetime.date, statuses: list[str], by: Any, label: str = "") -> AttendanceSession:
    """A finalised session of `course` on `day` with the given statuses (in student order)."""
    session = services.session_create(course=course, date=day, label=label, by=by)
    records = AttendanceRecord.objects.filter(session=session).order_by("student__last_name")
    for record, status in zip(records, statuses, strict=True):
        if status != "unmarked":
            services.record_correct(record=record, status=status, by=by)
    services.session_finalize(session=session, by=by)
    return session
