"""Writes about people: users, students' profiles, consent and teacher settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, StudentProfile, TeacherSettings, User
from accounts.selectors import teacher_settings_get


@transaction.atomic
def user_create(*, username: str, password: str, role: str = Role.TEACHER, email: str = "",
                first_name: str = "", last_name: str = "") -> User:
    user = User(username=username, email=email, role=role, first_name=first_name, last_name=last_name)
    user.is_staff = role == Role.ADMIN  # school admins use the Django admin
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any]) -> User:
    password = data.pop("password", None)
    for field, value in data.items():
        setattr(user, field, value)
    if "role" in data:
        user.is_staff = user.role == Role.ADMIN or user.is_superuser
    if password:
        user.set_password(password)
    user.save()
    return user


@transaction.atomic
def student_create(*, by: User, student_number: str, first_name: str, last_name: str,
                   guardian_email: str = "", consent_given: bool = False, user: User | None = None) -> StudentProfile:
    student = StudentProfile(student_number=student_number, first_name=first_name, last_name=last_name,
                             guardian_email=guardian_email, user=user, created_by=by)
    _apply_consent(student, consent_given=consent_given, by=by)
    student.full_clean()
    student.save()
    return student


@transaction.atomic
def student_update(*, student: StudentProfile, by: User, data: dict[str, Any]) -> StudentProfile:
    consent = data.pop("consent_given", None)
    for field, value in data.items():
        setattr(student, field, value)
    withdrawn = consent is False and student.consent_given
    if consent is not None:
        _apply_consent(student, consent_given=consent, by=by)
    student.save()
    if withdrawn:
        student_biometrics_delete(student=student)
    return student


def student_consent_set(*, student: StudentProfile, consent_given: bool, by: User) -> StudentProfile:
    """Records consent (who, when) or withdraws it; withdrawing deletes the student's face data."""
    return student_update(student=student, by=by, data={"consent_given": consent_given})


def _apply_consent(student: StudentProfile, *, consent_given: bool, by: User) -> None:
    if consent_given and not student.consent_given:
        student.consent_given_at = timezone.now()
        student.consent_recorded_by = by
    elif not consent_given:
        student.consent_given_at = None
        student.consent_recorded_by = None
    student.consent_given = consent_given


def student_biometrics_delete(*, student: StudentProfile) -> int:
    """Deletes every face embedding of the student and their stored photos; returns how many."""
    from recognition.services import face_embeddings_delete  # recognition owns the embeddings

    return face_embeddings_delete(student=student)


@transaction.atomic
def student_delete(*, student: StudentProfile) -> None:
    """Deletes a student and, first, their biometric data and its files in storage."""
    student_biometrics_delete(student=student)
    student.delete()


@transaction.atomic
def teacher_settings_update(*, user: User, data: dict[str, Any]) -> TeacherSettings:
    teacher_settings = teacher_settings_get(user=user)
    for field, value in data.items():
        setattr(teacher_settings, field, value)
    teacher_settings.full_clean()
    teacher_settings.save()
    return teacher_settings
