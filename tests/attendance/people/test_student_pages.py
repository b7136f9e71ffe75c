"""A student's own pages (/me/) and API (/api/v1/me/…): their attendance with its evidence, consent,
faces and the data export; never a classmate's data."""

from __future__ import annotations

import datetime
import json

import pytest

from recognition.models import FaceEmbedding
from tests.conftest import api_client_for
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory
from tests.people_data import finalised_session, stored_face

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


@pytest.fixture
def school(teacher, student_user):
    course = CourseFactory(teacher=teacher, code="BIO-1", name="Biology")
    me = StudentFactory(user=student_user, created_by=teacher, first_name="Mia", last_name="Own")
    classmate = StudentFactory(created_by=teacher, first_name="Carl", last_name="Other")
    for student in (me, classmate):
        EnrollmentFactory(course=course, student=student)
    finalised_session(course, DAY, {me: ("present", "face", 0.4123), classmate: ("absent", "manual", None)})
    finalised_session(course, DAY + datetime.timedelta(days=1),
                      {me: ("absent", "none", None), classmate: ("present", "face", 0.38)})
    return {"course": course, "me": me, "classmate": classmate,
            "my_face": stored_face(me), "their_face": stored_face(classmate)}


def test_my_page_shows_rate_statuses_and_face_evidence(client, student_user, school):
    client.force_login(student_user)
    page = client.get("/me/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Biology" in html and "50.0%" in html
    assert "Face match, distance 0.412" in html
    assert "Carl" not in html and "0.380" not in html  # nothing of the classmate
    assert f"/me/faces/{school['my_face'].pk}/image" in html
    assert 'href="/me/export/"' in html


def test_my_face_image_is_mine_only(client, student_user, school):
    client.force_login(student_user)
    assert client.get(f"/me/faces/{school['my_face'].pk}/image").status_code == 200
    assert client.get(f"/me/faces/{school['their_face'].pk}/image").status_code == 404


def test_export_holds_my_records_consent_and_biometric_list_but_no_vectors(client, student_user, school):
    client.force_login(student_user)
    response = client.get("/me/export/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["profile"]["student_number"] == school["me"].student_number
    records = document["attendance"][0]["records"]
    assert [r["status"] for r in records] == ["absent", "present"]
    assert records[1]["evidence"]["distance"] == 0.412
    assert document["consent"]["given"] is True
    assert [f["id"] for f in document["biometric_data"]["enrolled_faces"]] == [school["my_face"].pk]
    text = response.content.decode()
    assert "vector" not in json.dumps(document["biometric_data"]["enrolled_faces"])
    assert school["classmate"].student_number not in text


def test_student_withdraws_own_consent_and_faces_are_deleted(client, student_user, school):
    client.force_login(student_user)
    refused = client.post("/me/consent/withdraw/", {}, follow=True)
    assert b"Tick the box" in refused.content and FaceEmbedding.objects.filter(student=school["me"]).exists()
    client.post("/me/consent/withdraw/", {"confirm": "on"})
    school["me"].refresh_from_db()
    assert not school["me"].consent_given
    assert not FaceEmbedding.objects.filter(student=school["me"]).exists()
    assert FaceEmbedding.objects.filter(student=school["classmate"]).exists()


def test_staff_home_sends_a_student_to_their_page(client, student_user):
    client.force_login(student_user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/me/"


def test_student_login_without_a_record_is_told_so(client, student_user):
    client.force_login(student_user)
    response = client.get("/me/")
    assert response.status_code == 404 and b"not linked" in response.content


def test_api_my_attendance(student_user, school):
    response = api_client_for(student_user).get("/api/v1/me/attendance/")
    assert response.status_code == 200
    (course,) = response.json()
    assert course["course"]["code"] == "BIO-1" and course["rate"] == 50.0
    assert course["records"][1]["evidence"]["distance"] == 0.412 and course["records"][0]["evidence"] is None


def test_api_my_export(student_user, school):
    response = api_client_for(student_user).get("/api/v1/me/export/")
    assert response.status_code == 200
    assert response.json()["biometric_data"]["enrolled_faces"][0]["photo_kept"] is True


# The student role on every new page and endpoint: (who, method, url, expected status).
MATRIX = [
    ("student", "get", "/me/", 200),
    ("teacher", "get", "/me/", 403),
    ("admin", "get", "/me/", 403),
    ("anonymous", "get", "/me/", 302),
    ("student", "get", "/me/export/", 200),
    ("teacher", "get", "/me/export/", 403),
    ("anonymous", "get", "/me/export/", 302),
    ("student", "get", "/me/faces/{their_face}/image", 404),
    ("teacher", "get", "/me/faces/{my_face}/image", 403),
    ("student", "get", "/students/{classmate}/", 403),
    ("student", "get", "/", 302),  # the staff home sends a student to /me/
]


@pytest.mark.parametrize(("who", "method", "template", "expected"), MATRIX)
def test_pages_matrix(client, teacher, admin_user, student_user, school, who, method, template, expected):
    users = {"student": student_user, "teacher": teacher, "admin": admin_user}
    if who in users:
        client.force_login(users[who])
    url = template.format(their_face=school["their_face"].pk, my_face=school["my_face"].pk,
                          classmate=school["classmate"].pk)
    assert getattr(client, method)(url).status_code == expected


@pytest.mark.parametrize(("who", "expected"), [("student", 200), ("teacher", 403), ("admin", 403),
                                               ("anonymous", 401)])
@pytest.mark.parametrize("url", ["/api/v1/me/attendance/", "/api/v1/me/export/"])
def test_api_matrix(teacher, admin_user, student_user, school, who, expected, url):
    users = {"student": student_user, "teacher": teacher, "admin": admin_user, "anonymous": None}
    response = api_client_for(users[who]).get(url)
    assert response.status_code == expected
    if expected >= 400:
        assert "error_code" in response.json()


def test_own_withdrawal_is_in_the_history_and_the_export(client, student_user, school):
    from accounts.models import ConsentEvent

    client.force_login(student_user)
    client.post("/me/consent/withdraw/", {"confirm": "on"})
    event = ConsentEvent.objects.filter(student=school["me"]).latest("created_at")
    assert (event.action, event.given_by, event.recorded_by) == ("withdraw", "student", student_user)
    document = json.loads(client.get("/me/export/").content)
    assert document["consent"]["history"][0]["action"] == "withdraw"
    (receipt,) = document["consent"]["erasure_receipts"]
    assert receipt["rule"] == "consent_withdrawn" and receipt["embeddings_deleted"] == 1
    assert b"Consent history" in client.get("/me/").content
