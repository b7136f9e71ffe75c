"""Every admin path uses the services the pages use (issue 9 item 7) and links photos through the
login-protected views, never storage URLs (item 8)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from attendance.models import AttendanceCorrection, AttendanceRecord, SessionPhoto
from attendance.photos import services as photos
from attendance.register import services
from classes.models import Course
from recognition.models import FaceEmbedding
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user: Any, client_for: ClientFor) -> Client:
    return client_for(admin_user)


@pytest.fixture
def photo(enrolled_class: EnrolledClass, teacher: Any) -> SessionPhoto:
    session = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)
    photos.session_photo_process(session=session, image=enrolled_class.bytes("probes/obama_and_biden.jpg"),
                                   by=teacher)
    photo = SessionPhoto.objects.get(session=session)
    assert default_storage.exists(photo.image.name)
    return photo


def test_admin_deleting_a_course_removes_its_classroom_photos(admin_client: Client, photo: SessionPhoto,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    course = photo.session.course
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/classes/course/{course.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Course.objects.filter(pk=course.pk).exists()
    assert not default_storage.exists(photo.image.name)


def test_admin_bulk_deleting_courses_removes_their_photos(admin_client: Client, photo: SessionPhoto,
                                                          django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/classes/course/", {"action": "delete_selected",
                                                      "_selected_action": [photo.session.course_id], "post": "yes"})
    assert not default_storage.exists(photo.image.name)


def test_admin_deleting_a_session_photo_removes_the_file(admin_client: Client, photo: SessionPhoto,
                                                         django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/attendance/sessionphoto/{photo.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SessionPhoto.objects.filter(pk=photo.pk).exists()
    assert not default_storage.exists(photo.image.name)
    assert AttendanceRecord.objects.filter(session=photo.session, status="present").exists()  # records stay


def test_admin_bulk_deleting_session_photos_removes_the_files(admin_client: Client, photo: SessionPhoto,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/attendance/sessionphoto/", {"action": "delete_selected",
                                                               "_selected_action": [photo.pk], "post": "yes"})
    assert not default_storage.exists(photo.image.name)


def test_admin_cannot_clear_the_photo_field(admin_client: Client, photo: SessionPhoto) -> None:
    page = admin_client.get(f"/admin/attendance/sessionphoto/{photo.pk}/change/").content.decode()
    assert 'name="image-clear"' not in page and 'type="file"' not in page
    admin_client.post(f"/admin/attendance/sessionphoto/{photo.pk}/change/", {"image-clear": "on", "face_count": 0})
    photo.refresh_from_db()
    assert photo.image and default_storage.exists(photo.image.name)


def test_admin_links_photos_through_protected_views_never_storage(admin_client: Client, photo: SessionPhoto,
                                                                   enrolled_class: EnrolledClass) -> None:
    face = FaceEmbedding.objects.filter(student__in=enrolled_class.students.values()).first()
    pages = [admin_client.get(f"/admin/attendance/sessionphoto/{photo.pk}/change/").content.decode(),
             admin_client.get(f"/admin/attendance/attendancesession/{photo.session_id}/change/").content.decode(),
             admin_client.get(f"/admin/recognition/faceembedding/{face.pk}/change/").content.decode()]
    assert f"/photos/{photo.pk}/image" in pages[0] and f"/photos/{photo.pk}/image" in pages[1]
    assert f"/faces/{face.pk}/image" in pages[2]
    for page in pages:
        assert "/media/" not in page
        assert photo.image.name not in page and face.source_image.name not in page


def test_a_status_edited_in_the_admin_is_an_audited_correction(admin_client: Client, admin_user: Any,
                                                               photo: SessionPhoto,
                                                               enrolled_class: EnrolledClass) -> None:
    record = AttendanceRecord.objects.get(session=photo.session, student=enrolled_class.students["obama"])
    assert record.status == "present"
    response = admin_client.post(f"/admin/attendance/attendancerecord/{record.pk}/change/", {
        "status": "excused", "correction_note": "doctor's letter",
        "corrections-TOTAL_FORMS": "0", "corrections-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:3000]
    record.refresh_from_db()
    assert record.status == "excused"
    correction = AttendanceCorrection.objects.get(record=record)
    assert (correction.old_status, correction.new_status, correction.changed_by, correction.note) == (
        "present", "excused", admin_user, "doctor's letter")


def test_the_admin_refuses_statuses_a_correction_cannot_set(admin_client: Client, photo: SessionPhoto,
                                                            enrolled_class: EnrolledClass) -> None:
    record = AttendanceRecord.objects.get(session=photo.session, student=enrolled_class.students["obama"])
    admin_client.post(f"/admin/attendance/attendancerecord/{record.pk}/change/", {
        "status": "pending", "corrections-TOTAL_FORMS": "0", "corrections-INITIAL_FORMS": "0"})
    record.refresh_from_db()
    assert record.status == "present" and not AttendanceCorrection.objects.filter(record=record).exists()


def test_the_admin_cannot_finalise_by_editing_the_state(admin_client: Client, photo: SessionPhoto) -> None:
    session = photo.session
    page = admin_client.get(f"/admin/attendance/attendancesession/{session.pk}/change/").content.decode()
    assert 'name="state"' not in page
    assert 'name="records-0-status"' not in page  # statuses change on the record page, audited


def test_deleting_a_face_in_the_admin_writes_a_receipt(admin_client: Client, admin_user: Any,
                                                       enrolled_class: EnrolledClass) -> None:
    from accounts.models import ErasureReceipt

    face = FaceEmbedding.objects.filter(student=enrolled_class.students["obama"]).get()
    admin_client.post(f"/admin/recognition/faceembedding/{face.pk}/delete/", {"post": "yes"})
    receipt = ErasureReceipt.objects.get(student=enrolled_class.students["obama"])
    assert (receipt.rule, receipt.by, receipt.embeddings_deleted) == ("face_deleted", admin_user, 1)


def test_deleting_a_profile_from_the_user_page_is_not_offered(admin_client: Client, student_user: Any) -> None:
    from tests import factories

    factories.StudentFactory(user=student_user)
    page = admin_client.get(f"/admin/accounts/user/{student_user.pk}/change/").content.decode()
    assert "student_profile-0-DELETE" not in page

