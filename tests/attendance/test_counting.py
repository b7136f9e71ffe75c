"""Counts that must not be multiplied by joins, and thresholds that must not be replaced when falsy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from accounts.models import TeacherSettings
from attendance.register import services
from recognition.services import face_enrol
from tests import factories

pytestmark = pytest.mark.django_db


def test_face_count_is_not_multiplied_by_enrolments(teacher: Any, teacher_api: Any, faces: Path) -> None:
    student = factories.StudentFactory(created_by=teacher)
    courses = [factories.CourseFactory(teacher=teacher) for _ in range(3)]
    for course in courses:
        factories.EnrollmentFactory(course=course, student=student)
    face_enrol(student=student, image=(faces / "people/obama/obama.jpg").read_bytes(), by=teacher)

    listed = teacher_api.get("/api/v1/students/").json()["results"]
    assert [(s["id"], s["face_count"]) for s in listed] == [(student.pk, 1)]
    assert teacher_api.get(f"/api/v1/students/{student.pk}/").json()["face_count"] == 1
    filtered = teacher_api.get(f"/api/v1/students/?enrollments__course={courses[1].pk}").json()["results"]
    assert [s["face_count"] for s in filtered] == [1]
    roster = teacher_api.get(f"/api/v1/courses/{courses[0].pk}/students/").json()["results"]
    assert [s["face_count"] for s in roster] == [1]


def absent_everywhere(teacher: Any, course: Any) -> None:
    session = services.session_create(course=course, date="2026-11-20", by=teacher)
    services.session_finalize(session=session, by=teacher)


def test_a_zero_percent_threshold_means_nobody_is_at_risk(teacher: Any, teacher_api: Any,
                                                          django_capture_on_commit_callbacks: Any) -> None:
    response = teacher_api.patch("/api/v1/me/settings/", {"low_attendance_percent": 0}, format="json")
    assert response.status_code == 200 and response.json()["low_attendance_percent"] == 0
    course = factories.CourseFactory(teacher=teacher)
    factories.EnrollmentFactory(course=course)

    with django_capture_on_commit_callbacks(execute=True):
        absent_everywhere(teacher, course)

    report = teacher_api.get(f"/api/v1/courses/{course.pk}/report/").json()
    assert report["threshold"] == 0 and report["students"][0]["rate"] == 0.0 and report["at_risk"] == []
    assert not [m for m in mail.outbox if m.subject.startswith("Low attendance")]


def test_a_teacher_without_saved_settings_gets_the_school_threshold(teacher: Any, teacher_api: Any,
                                                                    settings: Any) -> None:
    settings.AT_RISK_THRESHOLD_PERCENT = 60
    assert not TeacherSettings.objects.filter(user=teacher).exists()
    course = factories.CourseFactory(teacher=teacher)

    assert teacher_api.get(f"/api/v1/courses/{course.pk}/report/").json()["threshold"] == 60
    assert teacher_api.get("/api/v1/me/settings/").json()["low_attendance_percent"] == 60
