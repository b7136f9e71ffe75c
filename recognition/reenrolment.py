"""How old a student's enrolment is, and whether it is time to enrol new photos.

A face enrolled years ago matches worse as the student grows: children's faces change within months.
The enrolment age is the age of the student's newest approved face; it is due for renewal after
REENROL_YOUNG_DAYS (about a term) for a student younger than REENROL_YOUNG_AGE, after REENROL_DAYS (a
year) otherwise. The student's age comes from the date of birth, else from the number in the year
group ("Year 3", "Grade 5") plus YEAR_GROUP_AGE_OFFSET; unknown ages take the yearly rule.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import StudentProfile
from recognition.models import FaceEmbedding
from school.clock import school_today

_NUMBER = re.compile(r"\d+")


def student_age_years(student: StudentProfile, *, today: datetime.date) -> int | None:
    """The student's age in whole years, or None when the school recorded neither birth date nor year group."""
    born = student.date_of_birth
    if born is not None:
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    number = _NUMBER.search(student.year_group or "")
    return int(number.group()) + settings.YEAR_GROUP_AGE_OFFSET if number else None


@dataclass(frozen=True)
class EnrolmentAge:
    """The student's approved faces, the newest one's date and age in days, the renewal interval for
    the student's age and whether it has passed."""

    faces: int
    newest: datetime.datetime | None
    days: int | None
    student_age: int | None
    interval_days: int

    @property
    def due(self) -> bool:
        return self.days is not None and self.days >= self.interval_days

    @property
    def young(self) -> bool:
        return self.student_age is not None and self.student_age < settings.REENROL_YOUNG_AGE

    @property
    def prompt(self) -> str:
        """The words shown when a renewal is due, else ''."""
        if not self.due or self.days is None:
            return ""
        rule = (f"every {self.interval_days} days under {settings.REENROL_YOUNG_AGE}" if self.young
                else f"every {self.interval_days} days")
        return (f"The newest enrolled face is {self.days} days old: enrol new photos ({rule}); "
                "faces change as students grow.")


def _age(*, faces: int, newest: datetime.datetime | None, student: StudentProfile,
         now: datetime.datetime) -> EnrolmentAge:
    years = student_age_years(student, today=school_today(now))
    young = years is not None and years < settings.REENROL_YOUNG_AGE
    return EnrolmentAge(faces=faces, newest=newest, days=None if newest is None else (now - newest).days,
                        student_age=years,
                        interval_days=settings.REENROL_YOUNG_DAYS if young else settings.REENROL_DAYS)


def enrolment_ages(students: Iterable[StudentProfile], *,
                   now: datetime.datetime | None = None) -> dict[int, EnrolmentAge]:
    """Each student's enrolment age by pk, in one query (a course roster)."""
    students = list(students)
    now = now or timezone.now()
    rows: dict[int, tuple[int, datetime.datetime]] = {
        student_id: (faces, newest) for student_id, faces, newest in FaceEmbedding.objects.filter(
            student__in=students, approval=FaceEmbedding.Approval.APPROVED).values("student")
        .annotate(faces=Count("pk"), newest=Max("created_at")).values_list("student", "faces", "newest")}
    ages = {}
    for student in students:
        faces, newest = rows.get(student.pk, (0, None))
        ages[student.pk] = _age(faces=faces, newest=newest, student=student, now=now)
    return ages


def enrolment_age(student: StudentProfile, *, now: datetime.datetime | None = None) -> EnrolmentAge:
    return enrolment_ages([student], now=now)[student.pk]
