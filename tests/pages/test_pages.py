"""Every staff page: who may see it, what it shows, its actions and its query count."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import TeacherSettings
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.photos import services as photos
from attendance.register import services
from recognition.models import FaceEmbedding
from tests import factories
from tests.classroom import EnrolledClass, make_class
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher_client(teacher: Any, client_for: ClientFor) -> Client:
    return client_for(teacher)


@pytest.fixture
def session(enrolled_class: EnrolledClass, teacher: Any) -> AttendanceSession:
    session = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)
    photos.session_photo_process(session=session, image=enrolled_class.bytes("probes/obama_and_biden.jpg"),
                                   by=teacher)
    return session


def page_urls(enrolled_class: EnrolledClass, session: AttendanceSession) -> list[str]:
    course, obama = enrolled_class.course, enrolled_class.students["obama"]
    photo = session.photos.get()
    face = FaceEmbedding.objects.filter(student=obama).get()
    return ["/courses/", f"/courses/{course.pk}/", f"/courses/{course.pk}/take/", f"/courses/{course.pk}/report/",
            f"/courses/{course.pk}/report.csv", "/sessions/", f"/sessions/{session.pk}/",
            f"/photos/{photo.pk}/image", "/students/", f"/students/{obama.pk}/", f"/faces/{face.pk}/image",
            "/settings/", "/"]


def test_every_page_loads_for_its_teacher(teacher_client: Client, enrolled_class: EnrolledClass,
                                          session: AttendanceSession) -> None:
    for url in page_urls(enrolled_class, session):
        response = teacher_client.get(url)
        assert response.status_code == 200, url


OWNED = {"/courses/", "/sessions/", "/students/", "/settings/", "/"}  # lists: filtered, not refused


def test_another_teacher_gets_404_on_everything_of_theirs(other_teacher: Any, enrolled_class: EnrolledClass,
                                                          session: AttendanceSession, client_for: ClientFor) -> None:
    client = client_for(other_teacher)
    for url in page_urls(enrolled_class, session):
        response = client.get(url)
        if url in OWNED:
            assert response.status_code == 200 and b"Barack Obama" not in response.content, url
        else:
            assert response.status_code == 404, url
    obama = enrolled_class.students["obama"]
    posts = [f"/sessions/{session.pk}/finalize/", f"/sessions/{session.pk}/records/{obama.pk}/correct/",
             f"/students/{obama.pk}/consent/", f"/courses/{enrolled_class.course.pk}/enrol/"]
    for url in posts:
        assert client.post(url, {"status": "absent", "consent_given": "no", "confirm": "on"}).status_code == 404
    assert AttendanceSession.objects.get(pk=session.pk).is_open
    assert FaceEmbedding.objects.filter(student=obama).exists()


def test_students_get_403_and_anonymous_users_the_login_page(student_user: Any, enrolled_class: EnrolledClass,
                                                              session: AttendanceSession,
                                                              client_for: ClientFor) -> None:
    student = client_for(student_user)
    anonymous = Client()
    for url in page_urls(enrolled_class, session):
        # The staff home sends a student to their own page; every other staff page is a 403.
        assert student.get(url).status_code == (302 if url == "/" else 403), url
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_the_session_page_draws_a_labelled_box_per_face(teacher_client: Client, session: AttendanceSession) -> None:
    html = teacher_client.get(f"/sessions/{session.pk}/").content.decode()
    assert html.count('data-face-box="present"') == 2 and html.count('data-face-box="unknown"') == 1
    assert "Barack Obama ·" in html and "Joe Biden ·" in html and ">Unknown" in html
    assert "Not seen yet (3)" in html and "Kit Harington" in html


def test_pending_matches_are_confirmed_in_one_click(teacher: Any, teacher_client: Client,
                                                    enrolled_class: EnrolledClass) -> None:
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.40", uncertain_threshold="0.60")
    session = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 21), by=teacher)
    photos.session_photo_process(session=session, image=enrolled_class.bytes("probes/obama_and_biden.jpg"),
                                   by=teacher)
    biden = enrolled_class.students["biden"]
    page = teacher_client.get(f"/sessions/{session.pk}/").content.decode()
    assert "To confirm (1)" in page and 'data-face-box="pending"' in page

    refused = teacher_client.post(f"/sessions/{session.pk}/finalize/", follow=True).content.decode()
    assert "still need a decision" in refused
    teacher_client.post(f"/sessions/{session.pk}/records/{biden.pk}/decide/", {"decision": "confirm"})

    record = AttendanceRecord.objects.get(session=session, student=biden)
    assert record.status == "present" and record.corrections.get().note == "Pending match confirmed"
    done = teacher_client.post(f"/sessions/{session.pk}/finalize/", follow=True).content.decode()
    assert "Session finalised: 3 absent" in done


def test_uploading_a_photo_from_the_page(teacher: Any, teacher_client: Client, enrolled_class: EnrolledClass) -> None:
    session = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 22), by=teacher)
    url = f"/sessions/{session.pk}/photos/"
    ajax = teacher_client.post(url, {"image": enrolled_class.photo("probes/kit_with_rose.jpg")},
                               HTTP_ACCEPT="application/json")
    assert ajax.status_code == 200 and ajax.json() == {
        "ok": True, "message": "kit_with_rose.jpg: 2 faces found, 2 recognised."}
    bad = teacher_client.post(url, {"image": SimpleUploadedFile("x.jpg", b"nope")}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 415 and "not a JPEG, PNG or WebP" in bad.json()["message"]
    plain = teacher_client.post(url, {"image": enrolled_class.photo("probes/kit_with_rose.jpg")}, follow=True)
    assert "already processed for this session" in plain.content.decode()


def test_corrections_and_unknown_face_assignment(teacher_client: Client, session: AttendanceSession,
                                                 enrolled_class: EnrolledClass) -> None:
    kit = enrolled_class.students["kit_harington"]
    teacher_client.post(f"/sessions/{session.pk}/records/{kit.pk}/correct/", {"status": "late", "note": "Bus"})
    record = AttendanceRecord.objects.get(session=session, student=kit)
    assert record.status == "late" and record.corrections.get().note == "Bus"
    unknown = session.photos.get().faces.get(match="unknown")
    alex = enrolled_class.students["alex_lacamoire"]
    page = teacher_client.post(f"/sessions/{session.pk}/faces/{unknown.pk}/assign/", {"student": alex.pk},
                               follow=True).content.decode()
    assert "Alex Lacamoire marked present." in page
    assert AttendanceRecord.objects.get(session=session, student=alex).status == "present"


def test_course_roster_enrol_unenrol_and_import(teacher: Any, teacher_client: Client,
                                                enrolled_class: EnrolledClass) -> None:
    course = enrolled_class.course
    newcomer = factories.StudentFactory(created_by=teacher, first_name="Nina", last_name="New")
    page = teacher_client.get(f"/courses/{course.pk}/").content.decode()
    assert "Nina New" in page and "Roster (5)" in page
    teacher_client.post(f"/courses/{course.pk}/enrol/", {"students": [newcomer.pk]})
    assert course.students.filter(pk=newcomer.pk).exists()
    teacher_client.post(f"/courses/{course.pk}/unenrol/{newcomer.pk}/")
    assert not course.students.filter(pk=newcomer.pk).exists()
    roster = SimpleUploadedFile("roster.csv", b"student_number,first_name,last_name,consent\n"
                                              b"R1,Rosa,Parks,yes\nR2,,Missing,\n")
    result = teacher_client.post(f"/courses/{course.pk}/roster/", {"file": roster}, follow=True).content.decode()
    assert "Roster imported: 1 new, 0 updated, 1 enrolled." in result
    assert "Line 3 not imported: first_name is empty" in result
    assert course.students.filter(student_number="R1").exists()


def test_consent_withdrawal_needs_confirmation_and_deletes_faces(teacher_client: Client,
                                                                 enrolled_class: EnrolledClass) -> None:
    rose = enrolled_class.students["rose_leslie"]
    url = f"/students/{rose.pk}/consent/"
    refused = teacher_client.post(url, {"consent_given": "no"}, follow=True).content.decode()
    assert "Tick the box to confirm" in refused and rose.face_embeddings.exists()
    done = teacher_client.post(url, {"consent_given": "no", "confirm": "on"}, follow=True).content.decode()
    assert "Consent withdrawn; 1 enrolled face(s) deleted." in done
    assert not rose.face_embeddings.exists()
    rose.refresh_from_db()
    assert rose.consent_given is False


def test_face_enrolment_says_what_is_wrong_in_words(teacher_client: Client, enrolled_class: EnrolledClass,
                                                    faces: Any) -> None:
    kit = enrolled_class.students["kit_harington"]
    kit.face_embeddings.all().delete()
    url = f"/students/{kit.pk}/faces/"
    crowd = teacher_client.post(url, {"image": SimpleUploadedFile("g.jpg", (faces / "groups/two_people.jpg")
                                                                  .read_bytes())}, HTTP_ACCEPT="application/json")
    assert crowd.status_code == 422
    assert "2 faces were found; an enrolment photo must show exactly one person" in crowd.json()["message"]
    good = teacher_client.post(url, {"image": SimpleUploadedFile("k.jpg", (faces / "people/kit_harington/john2.jpeg")
                                                                 .read_bytes())}, follow=True).content.decode()
    assert "Face enrolled for Kit Harington" in good
    assert kit.face_embeddings.count() == 1


def test_settings_within_bounds(teacher: Any, teacher_client: Client) -> None:
    data = {"confident_threshold": "0.45", "uncertain_threshold": "0.55", "low_attendance_percent": "80",
            "notify_guardians_on_absence": "on"}
    teacher_client.post("/settings/", data)
    saved = TeacherSettings.objects.get(user=teacher)
    assert str(saved.confident_threshold) == "0.45" and saved.notify_low_attendance is False
    too_loose = teacher_client.post("/settings/", {**data, "confident_threshold": "0.90"}).content.decode()
    assert 'class="error"' in too_loose and "0.65" in too_loose
    crossed = teacher_client.post("/settings/", {**data, "uncertain_threshold": "0.40"}).content.decode()
    assert "Must be at least the confident threshold." in crossed
    assert str(TeacherSettings.objects.get(user=teacher).confident_threshold) == "0.45"


def test_report_page_shows_rates_chart_and_at_risk(teacher: Any, teacher_client: Client, session: AttendanceSession,
                                                   enrolled_class: EnrolledClass) -> None:
    services.session_finalize(session=session, by=teacher)
    html = teacher_client.get(f"/courses/{enrolled_class.course.pk}/report/").content.decode()
    assert "<polyline" in html and "1 finalised session" in html and "40%" in html  # course average 2/5
    assert html.count("at risk</span>") == 3
    dashboard = teacher_client.get("/").content.decode()
    assert "Students at risk" in dashboard and "Kit Harington" in dashboard
    csv_text = teacher_client.get(f"/courses/{enrolled_class.course.pk}/report.csv").content.decode()
    assert csv_text.startswith("student_number,") and "Obama" in csv_text


@pytest.mark.parametrize("url_name", ["course-list", "course", "session", "report", "history", "dashboard",
                                      "students"])
def test_list_pages_do_not_query_per_row(teacher: Any, teacher_client: Client, faces: Any, url_name: str,
                                         django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    enrolled = make_class(teacher=teacher, faces=faces, enrol=("obama", "biden"))
    session = services.session_create(course=enrolled.course, date=datetime.date(2026, 11, 1), by=teacher)
    photos.session_photo_process(session=session, image=enrolled.bytes("probes/obama_and_biden.jpg"), by=teacher)
    services.session_finalize(session=session, by=teacher)
    urls = {"course-list": "/courses/", "course": f"/courses/{enrolled.course.pk}/",
            "session": f"/sessions/{session.pk}/", "report": f"/courses/{enrolled.course.pk}/report/",
            "history": "/sessions/", "dashboard": "/", "students": "/students/"}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert teacher_client.get(urls[url_name]).status_code == 200
        return len(queries)

    small = count()
    for index in range(15):  # fifteen more students, records, corrections and a second course
        student = factories.StudentFactory(created_by=teacher)
        factories.EnrollmentFactory(course=enrolled.course, student=student)
        record = AttendanceRecord.objects.create(session=session, student=student, status="absent")
        services.record_correct(record=record, status="excused", by=teacher, note=str(index))
    factories.CourseFactory(teacher=teacher)
    assert count() == small, url_name


def test_forms_need_the_csrf_token(teacher: Any, session: AttendanceSession) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    assert client.post(f"/sessions/{session.pk}/finalize/").status_code == 403
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 5  # upload, assign, finalise and each correction
    assert AttendanceSession.objects.get(pk=session.pk).is_open


def test_no_page_shows_an_embedding(teacher_client: Client, enrolled_class: EnrolledClass,
                                    session: AttendanceSession) -> None:
    face = FaceEmbedding.objects.filter(student=enrolled_class.students["obama"]).get()
    digits = [f"{value:.6f}"[:7] for value in face.embedding[:8]]
    for url in page_urls(enrolled_class, session):
        if url.endswith("/image") or url.endswith(".csv"):
            continue
        html = teacher_client.get(url).content.decode()
        assert not any(d in html for d in digits), url


def test_a_roster_upload_cannot_change_another_teachers_student(teacher_client: Client, other_teacher: Any,
                                                                enrolled_class: EnrolledClass) -> None:
    theirs = factories.StudentFactory(created_by=other_teacher, student_number="T-9", first_name="Kept")
    roster = SimpleUploadedFile("roster.csv", b"student_number,first_name,last_name\nT-9,Changed,Name\n")
    page = teacher_client.post(f"/courses/{enrolled_class.course.pk}/roster/", {"file": roster},
                               follow=True).content.decode()
    assert "belongs to a student you cannot change" in page
    theirs.refresh_from_db()
    assert theirs.first_name == "Kept" and not enrolled_class.course.students.filter(pk=theirs.pk).exists()
