"""Users (admins only), students (consent recorded), teacher settings."""

from __future__ import annotations

import pytest

from accounts.models import StudentProfile, User
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def test_admin_creates_user_with_role_and_password(admin_api):
    response = admin_api.post("/api/v1/users/", {"username": "newteacher", "password": "a-strong-pass-93",
                                                 "email": "t@school.example", "role": "teacher"}, format="json")
    assert response.status_code == 201, response.content
    assert "password" not in response.json()
    user = User.objects.get(username="newteacher")
    assert user.role == "teacher" and user.check_password("a-strong-pass-93")


def test_user_needs_a_strong_password(admin_api):
    response = admin_api.post("/api/v1/users/", {"username": "weak", "password": "123", "role": "teacher"},
                              format="json")
    assert response.status_code == 400
    assert "password" in response.json()["details"]


def test_user_role_must_be_known(admin_api):
    response = admin_api.post("/api/v1/users/", {"username": "x", "password": "a-strong-pass-93", "role": "janitor"},
                              format="json")
    assert response.status_code == 400
    assert "role" in response.json()["details"]


def test_admin_cannot_delete_themself(admin_api, admin_user):
    response = admin_api.delete(f"/api/v1/users/{admin_user.pk}/")
    assert response.status_code == 409
    assert response.json()["error_code"] == "CANNOT_DELETE_SELF"


def test_teacher_creates_student_and_consent_is_recorded(teacher_api, teacher):
    response = teacher_api.post("/api/v1/students/", {
        "student_number": "2026-001", "first_name": "Mia", "last_name": "Lopez",
        "guardian_email": "parent@family.example", "consent_given": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["consent_given"] is True
    assert body["consent_recorded_by"] == teacher.pk
    assert body["consent_given_at"]
    assert "face_embeddings" not in body and "vector" not in body


def test_student_number_is_unique(teacher_api):
    StudentFactory(student_number="DUP")
    response = teacher_api.post("/api/v1/students/", {"student_number": "DUP", "first_name": "A", "last_name": "B"},
                                format="json")
    assert response.status_code == 409 and response.json()["error_code"] == "ALREADY_EXISTS"
    assert "student_number" in response.json()["details"]


def test_guardian_email_is_validated(teacher_api):
    response = teacher_api.post("/api/v1/students/", {"student_number": "E1", "first_name": "A", "last_name": "B",
                                                      "guardian_email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert "guardian_email" in response.json()["details"]


def test_withdrawing_consent_clears_the_record(teacher_api, teacher):
    student = StudentFactory(created_by=teacher, consent_given=True)
    response = teacher_api.patch(f"/api/v1/students/{student.pk}/", {"consent_given": False}, format="json")
    assert response.status_code == 200
    student.refresh_from_db()
    assert student.consent_given is False and student.consent_given_at is None


def test_student_created_by_teacher_is_deletable_by_them_only(teacher_api, other_teacher_api, teacher, admin_api):
    mine = StudentFactory(created_by=teacher)
    assert teacher_api.delete(f"/api/v1/students/{mine.pk}/").status_code == 204
    assert not StudentProfile.objects.filter(pk=mine.pk).exists()


def test_student_sees_themself_through_me(student_api, student_user):
    profile = StudentFactory(user=student_user)
    assert student_api.get("/api/v1/me/").json()["student_profile"] == profile.pk


def test_teacher_settings_defaults_and_bounds(teacher_api):
    current = teacher_api.get("/api/v1/me/settings/").json()
    assert current["confident_threshold"] == "0.50" and current["uncertain_threshold"] == "0.60"
    assert current["low_attendance_percent"] == 75
    too_loose = teacher_api.patch("/api/v1/me/settings/", {"uncertain_threshold": "0.90"}, format="json")
    assert too_loose.status_code == 400
    inverted = teacher_api.patch("/api/v1/me/settings/", {"confident_threshold": "0.55",
                                                          "uncertain_threshold": "0.45"}, format="json")
    assert inverted.status_code == 400
    ok = teacher_api.patch("/api/v1/me/settings/", {"confident_threshold": "0.45"}, format="json")
    assert ok.status_code == 200 and ok.json()["confident_threshold"] == "0.45"


def test_students_have_no_settings(student_api):
    assert student_api.get("/api/v1/me/settings/").status_code == 403


def test_pagination_and_search(teacher_api, teacher):
    for index in range(3):
        StudentFactory(created_by=teacher, last_name=f"Zed{index}")
    page = teacher_api.get("/api/v1/students/", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    found = teacher_api.get("/api/v1/students/", {"search": "Zed1"}).json()
    assert [row["last_name"] for row in found["results"]] == ["Zed1"]
