"""Reads about courses, scoped to what the asking user may see."""

from __future__ import annotations

import datetime

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import StudentProfile, User
from classes.models import Course


def course_list_visible(*, user: User) -> QuerySet[Course]:
    """Admins see every course, a teacher the courses they teach, a student those they attend."""
    courses = (Course.objects.select_related("teacher")
               .annotate(student_count=Count("enrollments", distinct=True)).order_by("code"))
    if user.is_school_admin:
        return courses
    if user.is_teacher:
        return courses.filter(teacher=user)
    return courses.filter(enrollments__student__user=user)



def course_visible_or_404(*, user: User, course_id: int | str) -> Course:
    """The course if `user` may see it; otherwise not found."""
    return get_object_or_404(course_list_visible(user=user), pk=course_id)


def course_list_active(*, user: User) -> QuerySet[Course]:
    """The visible courses that are not archived: what teachers' lists and the dashboard show."""
    return course_list_visible(user=user).filter(archived=False)


def course_students(*, course: Course) -> QuerySet[StudentProfile]:
    return StudentProfile.objects.filter(enrollments__course=course)


def course_list_for_day(*, user: User, day: datetime.date) -> QuerySet[Course]:
    """The user's courses that meet on `day` according to the timetable."""
    return course_list_active(user=user).filter(timetable_slots__weekday=day.weekday()).distinct()
