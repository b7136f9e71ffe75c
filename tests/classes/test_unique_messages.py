"""A uniqueness refusal names nothing about another teacher's course or student."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_course_code_taken_by_another_teacher_gets_a_generic_message(teacher_api: Any, other_teacher: Any,
                                                                        teacher: Any) -> None:
    factories.CourseFactory(teacher=other_teacher, code="SECRET-9", name="Other teacher's course")
    factories.CourseFactory(teacher=teacher, code="MINE-1")
    hidden = teacher_api.post("/api/v1/courses/", {"name": "x", "code": "SECRET-9"}, format="json")
    assert hidden.status_code == 409
    assert hidden.json()["details"]["code"] == ["This course code is not available; choose another."]
    assert "already exists" not in hidden.content.decode()
    seen = teacher_api.post("/api/v1/courses/", {"name": "x", "code": "MINE-1"}, format="json")
    assert seen.status_code == 409
    assert seen.json()["details"]["code"] == ["You already have a course with this code."]


def test_a_student_number_of_another_teachers_student_gets_a_generic_message(teacher_api: Any, teacher: Any,
                                                                             other_teacher: Any) -> None:
    factories.StudentFactory(created_by=other_teacher, student_number="S-HIDDEN")
    mine = factories.StudentFactory(created_by=teacher, student_number="S-MINE")
    body = {"first_name": "A", "last_name": "B"}
    hidden = teacher_api.post("/api/v1/students/", {**body, "student_number": "S-HIDDEN"}, format="json")
    assert hidden.status_code == 409
    message = hidden.json()["details"]["student_number"][0]
    assert message.startswith("This student number is not available") and "already exists" not in message
    seen = teacher_api.post("/api/v1/students/", {**body, "student_number": "S-MINE"}, format="json")
    assert seen.json()["details"]["student_number"] == ["A student you can see already has this number."]
    # Renaming one's own student to its own number is not a clash.
    same = teacher_api.patch(f"/api/v1/students/{mine.pk}/", {"student_number": "S-MINE"}, format="json")
    assert same.status_code == 200
