"""Writes about courses and enrolments."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from accounts.models import StudentProfile, User
from classes.models import Course, Enrollment, TimetableSlot


@transaction.atomic
def course_create(*, by: User, name: str, code: str, description: str = "", teacher: User | None = None) -> Course:
    """A teacher who creates a course teaches it; an admin may name any teacher."""
    if not by.is_school_admin or teacher is None:
        teacher = by
    course = Course(name=name, code=code, description=description, teacher=teacher)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def course_update(*, course: Course, by: User, data: dict[str, Any]) -> Course:
    if not by.is_school_admin:
        data.pop("teacher", None)
    for field, value in data.items():
        setattr(course, field, value)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def course_delete(*, course: Course) -> None:
    """Deletes a course with its sessions, their records and classroom photos (files included): each app
    that keeps rows of the course deletes them first (registered with `course_dependent_register`)."""
    with transaction.atomic():
        for dependent in _course_dependents:
            dependent(course)
        course.delete()


# Apps above this one that keep rows of a course and must delete them (and their files) with it, each
# registered in its AppConfig.ready(): attendance deletes the course's sessions and classroom photos.
CourseDependent = Callable[[Course], object]
_course_dependents: list[CourseDependent] = []


def course_dependent_register(dependent: CourseDependent) -> None:
    if dependent not in _course_dependents:
        _course_dependents.append(dependent)


@transaction.atomic
def enrollment_add(*, course: Course, students: Iterable[StudentProfile]) -> list[Enrollment]:
    """Enrols students in a course; those already enrolled are left as they are. Returns the new ones."""
    already = set(course.enrollments.values_list("student_id", flat=True))
    new = [Enrollment(course=course, student=student) for student in students if student.pk not in already]
    Enrollment.objects.bulk_create(new, ignore_conflicts=True)
    return new


@transaction.atomic
def enrollment_remove(*, course: Course, student: StudentProfile) -> bool:
    deleted, _ = Enrollment.objects.filter(course=course, student=student).delete()
    return bool(deleted)


@transaction.atomic
def course_archive(*, course: Course, archived: bool) -> Course:
    """Archives a course (it leaves teachers' lists and the timetable; history stays) or brings it back."""
    course.archived = archived
    course.save(update_fields=["archived"])
    return course


@transaction.atomic
def timetable_slot_create(*, course: Course, weekday: int, start_time: datetime.time, end_time: datetime.time,
                          room: str = "", label: str = "") -> TimetableSlot:
    """A weekly period of the course; it must end after it starts."""
    slot = TimetableSlot(course=course, weekday=weekday, start_time=start_time, end_time=end_time, room=room,
                         label=label)
    slot.full_clean()
    slot.save()
    return slot


@transaction.atomic
def timetable_slot_delete(*, slot: TimetableSlot) -> None:
    """Removes a weekly period; sessions already opened from it keep their label."""
    slot.delete()
