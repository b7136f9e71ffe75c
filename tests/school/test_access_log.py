"""The access log: views of faces and classroom photos, face crops, reports and their exports and the
faces in the Django admin are logged (who, what, when, how), and the office lists them with filters.
Every route's classification: test_access_log_routes.py."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile

from attendance.models import AttendanceSession, DetectedFace, SessionPhoto
from school.models import AccessLogEntry
from tests.conftest import api_client_for
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory
from tests.people_data import jpeg_bytes, stored_face

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(teacher):
    course = CourseFactory(teacher=teacher)
    student = StudentFactory(created_by=teacher)
    EnrollmentFactory(course=course, student=student)
    session = AttendanceSession.objects.create(course=course, date=datetime.date(2026, 3, 2))
    photo = SessionPhoto(session=session, content_hash="abc", width=40, height=40, face_count=1,
                         processing_time_ms=5, uploaded_by=teacher)
    photo.image.save("class.jpg", ContentFile(jpeg_bytes()), save=False)
    photo.save()
    DetectedFace.objects.create(photo=photo, face_index=0, box_top=5, box_right=35, box_bottom=35, box_left=5,
                                face_area_ratio=0.5, match="unknown")
    return photo


def test_classroom_photo_view_writes_a_row(client, teacher, photo):
    client.force_login(teacher)
    assert client.get(f"/photos/{photo.pk}/image").status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.username, entry.kind, entry.how) == (teacher, teacher.username, "classroom_photo", "page")
    assert entry.object_id == str(photo.pk) and entry.path == f"/photos/{photo.pk}/image"


def test_refused_view_writes_nothing(client, other_teacher, photo):
    client.force_login(other_teacher)
    assert client.get(f"/photos/{photo.pk}/image").status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_face_crop_through_the_api_writes_a_row(teacher, photo):
    face = photo.faces.get()
    response = api_client_for(teacher).get(f"/api/v1/sessions/{photo.session_id}/faces/{face.pk}/crop/")
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.kind, entry.how, entry.object_id) == ("face_crop", "api", str(face.pk))


def test_enrolment_photo_views_are_logged_for_staff_and_the_student(client, teacher, student_user):
    student = StudentFactory(created_by=teacher, user=student_user)
    face = stored_face(student)
    client.force_login(teacher)
    assert client.get(f"/faces/{face.pk}/image").status_code == 200
    client.force_login(student_user)
    assert client.get(f"/me/faces/{face.pk}/image").status_code == 200
    assert list(AccessLogEntry.objects.order_by("id").values_list("username", "kind")) == [
        (teacher.username, "face_image"), (student_user.username, "face_image")]


def test_enrolment_face_crop_is_logged(client, teacher):
    face = stored_face(StudentFactory(created_by=teacher))
    client.force_login(teacher)
    assert client.get(f"/faces/{face.pk}/enrolment-crop").status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.kind, entry.object_id) == ("face_image", str(face.pk))


def test_report_pages_and_exports_are_logged(client, teacher, photo):
    course = photo.session.course
    client.force_login(teacher)
    assert client.get(f"/courses/{course.pk}/report.csv").status_code == 200
    assert client.get(f"/courses/{course.pk}/report.pdf").status_code == 200
    assert client.get(f"/courses/{course.pk}/report/").status_code == 200
    assert api_client_for(teacher).get(f"/api/v1/courses/{course.pk}/report/?format=csv").status_code == 200
    assert list(AccessLogEntry.objects.order_by("id").values_list("kind", "how")) == [
        ("report_export", "page"), ("report_export", "page"), ("report_view", "page"), ("report_export", "api")]


def test_admin_views_of_faces_are_logged(client, admin_user, teacher):
    face = stored_face(StudentFactory(created_by=teacher))
    client.force_login(admin_user)
    assert client.get("/admin/recognition/faceembedding/").status_code == 200
    assert client.get(f"/admin/recognition/faceembedding/{face.pk}/change/").status_code == 200
    assert list(AccessLogEntry.objects.order_by("id").values_list("kind", "how", "object_id")) == [
        ("admin_faces", "admin", ""), ("admin_faces", "admin", str(face.pk))]


def test_office_page_lists_and_filters_the_log(client, admin_user, teacher, photo):
    teacher_client = client
    teacher_client.force_login(teacher)
    teacher_client.get(f"/photos/{photo.pk}/image")
    teacher_client.get(f"/courses/{photo.session.course_id}/report.csv")
    assert teacher_client.get("/office/access-log/").status_code == 403
    client.force_login(admin_user)
    page = client.get("/office/access-log/")
    assert page.status_code == 200 and page.content.count(b"<tr data-kind=") == 2
    only_photos = client.get("/office/access-log/?kind=classroom_photo").content
    assert only_photos.count(b"<tr data-kind=") == 1 and b'data-kind="classroom_photo"' in only_photos
    assert client.get(f"/office/access-log/?user={admin_user.username}").content.count(b"<tr data-kind=") == 0
    assert client.get("/office/access-log/?from=2999-01-01").content.count(b"<tr data-kind=") == 0
    assert client.get("/office/access-log/?from=not-a-date&kind=bogus").status_code == 200


def test_the_log_holds_no_biometric_data():
    names = {field.name for field in AccessLogEntry._meta.get_fields()}
    assert names == {"id", "at", "user", "username", "kind", "how", "object_type", "object_id", "path"}
