"""Reads about people, always scoped to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import ConsentEvent, ErasureReceipt, StudentProfile, TeacherSettings, User


def student_list_visible(*, user: User) -> QuerySet[StudentProfile]:
    """Admins see every student; a teacher the students of their courses and those they created;
    a student only themself."""
    students = StudentProfile.objects.order_by("last_name", "first_name", "student_number")
    if user.is_school_admin:
        return students
    if user.is_teacher:
        return students.filter(Q(enrollments__course__teacher=user) | Q(created_by=user)).distinct()
    return students.filter(user=user)


def teacher_settings_get(*, user: User) -> TeacherSettings:
    """A teacher's settings; defaults (unsaved, with the school's AT_RISK_THRESHOLD_PERCENT) until the
    teacher changes something."""
    try:
        return user.teacher_settings
    except TeacherSettings.DoesNotExist:
        return TeacherSettings(user=user, low_attendance_percent=settings.AT_RISK_THRESHOLD_PERCENT)


@dataclass(frozen=True)
class ConsentHistory:
    events: list[ConsentEvent]  # newest first
    receipts: list[ErasureReceipt]  # newest first


def consent_history(*, student: StudentProfile) -> ConsentHistory:
    """Every grant and withdrawal of the student's consent and every erasure of their biometric data."""
    return ConsentHistory(
        events=list(ConsentEvent.objects.filter(student=student).select_related("recorded_by")),
        receipts=list(ErasureReceipt.objects.filter(student=student)))
