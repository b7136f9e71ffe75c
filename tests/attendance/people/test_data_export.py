""""Download my data" covers everything kept about the student: self check-in attempts and their selfies,
live-mode evidence, every record (a course left since too), enrolments; the page and the API alike; and
a new model that keeps something about a student fails here until the export carries it."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import StudentProfile
from attendance.models import AttendanceSession, CheckinAttempt, LiveEvidence
from attendance.people.own import EXPORTED_MODELS
from classes.models import Enrollment
from tests.conftest import api_client_for
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory, StudentUserFactory
from tests.people_data import finalised_session, jpeg_bytes

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


@pytest.fixture
def mine(teacher: Any, student_user: Any) -> dict[str, Any]:
    course = CourseFactory.create(teacher=teacher, code="BIO-1")
    left = CourseFactory.create(teacher=teacher, code="ART-9")
    me = StudentFactory.create(user=student_user, created_by=teacher)
    classmate = StudentFactory.create(created_by=teacher)
    for student in (me, classmate):
        EnrollmentFactory.create(course=course, student=student)
    finalised_session(left, DAY, {me: ("late", "manual", None)})  # a course the student has left since
    session = AttendanceSession.objects.create(course=course, date=DAY)
    kept = CheckinAttempt(session=session, user=student_user, student=me, outcome="pending", reason="uncertain",
                          distance=0.5123, device_id="phone-1")
    kept.selfie.save("selfie.jpg", ContentFile(jpeg_bytes()), save=False)
    kept.save()
    refused = CheckinAttempt.objects.create(session=session, user=student_user, student=None, outcome="refused",
                                            error_code="FACE_MISMATCH")
    CheckinAttempt.objects.create(session=session, student=classmate, outcome="present")
    now = timezone.now()
    LiveEvidence.objects.create(session=session, student=me, confident_frames=3, uncertain_frames=1,
                                best_distance=0.4444, first_seen_at=now, last_seen_at=now)
    LiveEvidence.objects.create(session=session, student=classmate, confident_frames=9, first_seen_at=now,
                                last_seen_at=now)
    return {"me": me, "kept": kept, "refused": refused}


def test_the_export_holds_checkins_with_their_selfies_and_live_mode_evidence(client: Any, student_user: Any,
                                                                             mine: dict[str, Any]) -> None:
    client.force_login(student_user)
    document = json.loads(client.get("/me/export/").content)
    checkins = document["self_checkins"]
    assert [(c["outcome"], c["error_code"]) for c in checkins] == [("pending", ""), ("refused", "FACE_MISMATCH")]
    assert checkins[0]["distance"] == 0.512 and checkins[0]["device_id"] == "phone-1"
    selfie = client.get(checkins[0]["selfie"])
    assert selfie.status_code == 200 and selfie["Content-Type"] == "image/jpeg"
    assert checkins[1]["selfie"] is None
    (live,) = document["live_mode"]
    assert (live["confident_frames"], live["uncertain_frames"], live["best_distance"]) == (3, 1, 0.444)
    assert [(r["course"], r["status"]) for r in document["records"]] == [("ART-9", "late")]
    assert [c["code"] for c in document["courses"]] == ["BIO-1"]


def test_the_api_export_is_the_same_document(student_user: Any, mine: dict[str, Any]) -> None:
    document = api_client_for(student_user).get("/api/v1/me/export/").json()
    assert len(document["self_checkins"]) == 2 and len(document["live_mode"]) == 1
    assert document["records"][0]["course"] == "ART-9"


def test_a_selfie_is_its_students_only(client: Any, teacher: Any, mine: dict[str, Any]) -> None:
    url = f"/me/checkins/{mine['kept'].pk}/selfie"
    assert client.get(url).status_code == 302  # anonymous: sent to log in
    someone = StudentUserFactory.create(username="someone")
    StudentFactory.create(created_by=teacher, user=someone)
    client.force_login(someone)
    assert client.get(url).status_code == 404


def test_every_model_about_a_student_is_in_the_export() -> None:
    about_a_student = {
        model._meta.label for model in apps.get_models()
        for field in model._meta.get_fields()
        if (field.many_to_one or field.one_to_one) and field.concrete and field.related_model is StudentProfile}
    assert about_a_student - set(EXPORTED_MODELS) == set(), (
        "a model keeps something about a student: add it to own_data_export and EXPORTED_MODELS "
        "(attendance/people/own.py) and to the README's list")
    assert Enrollment._meta.label in about_a_student  # the walk sees the models above accounts too
