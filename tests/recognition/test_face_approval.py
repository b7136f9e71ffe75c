"""Self-enrolled faces wait for staff approval before they are matched; a student cannot delete a face
the school enrolled (issue 9 item 5). Real dlib model, real photos."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from attendance.models import AttendanceRecord
from attendance.photos import services as photos
from attendance.register import services
from recognition.models import FaceEmbedding
from recognition.services import face_enrol
from tests.classroom import EnrolledClass, make_class
from tests.conftest import ClientFor, api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def pupil_class(teacher: Any, student_user: Any, faces: Path) -> EnrolledClass:
    """Everyone enrolled by the teacher except Obama, whose profile has the student login `pupil`."""
    enrolled = make_class(teacher=teacher, faces=faces, enrol=("biden", "kit_harington", "rose_leslie",
                                                                "alex_lacamoire"))
    obama = enrolled.students["obama"]
    obama.user = student_user
    obama.save()
    return enrolled


def _status_after_photo(enrolled: EnrolledClass, teacher: Any, day: int, photo: str) -> str:
    session = services.session_create(course=enrolled.course, date=datetime.date(2026, 11, day), by=teacher)
    photos.session_photo_process(session=session, image=enrolled.bytes(photo), by=teacher)
    return AttendanceRecord.objects.get(session=session, student=enrolled.students["obama"]).status


def test_a_self_enrolled_face_is_not_matched_until_a_teacher_approves_it(pupil_class: EnrolledClass,
                                                                         student_user: Any, teacher: Any) -> None:
    me = api_client_for(student_user)
    response = me.post("/api/v1/students/me/faces/", {"image": pupil_class.photo("people/obama/obama.jpg")},
                       format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["approval"] == "pending"
    face_id = response.json()["id"]
    assert _status_after_photo(pupil_class, teacher, 2, "probes/obama1.jpg") == "unmarked"

    approved = api_client_for(teacher).post(
        f"/api/v1/students/{pupil_class.students['obama'].pk}/faces/{face_id}/approve/")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["approval"], approved.json()["approved_by"]) == ("approved", teacher.pk)
    assert approved.json()["approved_at"]
    assert _status_after_photo(pupil_class, teacher, 3, "probes/obama1.jpg") == "present"


def test_a_friends_face_enrolled_as_mine_never_marks_me_present(pupil_class: EnrolledClass, student_user: Any,
                                                                teacher: Any) -> None:
    """The attack: Obama's login enrols Biden's second photo as Obama. It is refused at once (Biden is an
    enrolled student: issue 19), so Biden's photo never marks Obama."""
    me = api_client_for(student_user)
    response = me.post("/api/v1/students/me/faces/", {"image": pupil_class.photo("people/biden/biden2.jpg")},
                       format="multipart")
    assert response.status_code == 422 and response.json()["error_code"] == "FACE_OF_ANOTHER_STUDENT"
    assert not FaceEmbedding.objects.filter(student=pupil_class.students["obama"]).exists()
    assert _status_after_photo(pupil_class, teacher, 4, "people/biden/biden2.jpg") == "unmarked"


def test_a_student_cannot_delete_a_face_the_teacher_enrolled(teacher: Any, student_user: Any, faces: Path,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    enrolled = make_class(teacher=teacher, faces=faces, enrol=("obama",))
    obama = enrolled.students["obama"]
    obama.user = student_user
    obama.save()
    teachers_face = FaceEmbedding.objects.get(student=obama)
    me = api_client_for(student_user)
    refused = me.delete(f"/api/v1/students/{obama.pk}/faces/{teachers_face.pk}/")
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "FACE_ENROLLED_BY_STAFF"
    assert FaceEmbedding.objects.filter(pk=teachers_face.pk).exists()
    mine = me.post("/api/v1/students/me/faces/", {"image": enrolled.photo("people/obama/obama2.jpg")},
                   format="multipart").json()
    with django_capture_on_commit_callbacks(execute=True):
        assert me.delete(f"/api/v1/students/{obama.pk}/faces/{mine['id']}/").status_code == 204
    assert list(FaceEmbedding.objects.filter(student=obama)) == [teachers_face]


def test_a_teacher_enrolled_face_is_approved_at_once(teacher: Any, faces: Path) -> None:
    enrolled = make_class(teacher=teacher, faces=faces, enrol=("obama",))
    face = FaceEmbedding.objects.get(student=enrolled.students["obama"])
    assert (face.approval, face.is_pending) == ("approved", False)


def test_approving_twice_is_a_conflict_and_students_cannot_approve(pupil_class: EnrolledClass, student_user: Any,
                                                                   teacher: Any) -> None:
    obama = pupil_class.students["obama"]
    face = face_enrol(student=obama, image=pupil_class.bytes("people/obama/obama.jpg"), by=student_user)
    assert face.is_pending
    url = f"/api/v1/students/{obama.pk}/faces/{face.pk}/approve/"
    assert api_client_for(student_user).post(url).status_code == 403
    assert api_client_for(teacher).post(url).status_code == 200
    again = api_client_for(teacher).post(url)
    assert again.status_code == 409 and again.json()["error_code"] == "FACE_NOT_PENDING"


def test_another_teacher_cannot_approve(pupil_class: EnrolledClass, student_user: Any, other_teacher: Any) -> None:
    obama = pupil_class.students["obama"]
    face = face_enrol(student=obama, image=pupil_class.bytes("people/obama/obama.jpg"), by=student_user)
    response = api_client_for(other_teacher).post(f"/api/v1/students/{obama.pk}/faces/{face.pk}/approve/")
    assert response.status_code == 404
    face.refresh_from_db()
    assert face.is_pending


def test_the_student_page_approves_and_rejects(pupil_class: EnrolledClass, student_user: Any, teacher: Any,
                                               django_capture_on_commit_callbacks: Any, client_for: ClientFor) -> None:
    obama = pupil_class.students["obama"]
    first = face_enrol(student=obama, image=pupil_class.bytes("people/obama/obama.jpg"), by=student_user)
    second = face_enrol(student=obama, image=pupil_class.bytes("people/obama/obama2.jpg"), by=student_user)
    client = client_for(teacher)
    page = client.get(f"/students/{obama.pk}/").content.decode()
    assert page.count("waiting for approval") == 2 and 'value="approve"' in page
    client.post(f"/students/{obama.pk}/faces/{first.pk}/review/", {"decision": "approve"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/students/{obama.pk}/faces/{second.pk}/review/", {"decision": "reject"})
    first.refresh_from_db()
    assert (first.approval, first.approved_by) == ("approved", teacher)
    assert not FaceEmbedding.objects.filter(pk=second.pk).exists()
    assert not default_storage.exists(second.source_image.name)
    page = client.get(f"/students/{obama.pk}/").content.decode()
    assert f"approved by {teacher.username}" in page and "Self-enrolled face rejected by staff" in page


def test_a_student_without_consent_cannot_self_enrol(teacher: Any, student_user: Any, faces: Path) -> None:
    from tests import factories

    factories.StudentFactory(user=student_user, consent_given=False)
    upload = SimpleUploadedFile("me.jpg", (faces / "people/obama/obama.jpg").read_bytes(), content_type="image/jpeg")
    response = api_client_for(student_user).post("/api/v1/students/me/faces/", {"image": upload}, format="multipart")
    assert response.status_code == 403 and response.json()["error_code"] == "CONSENT_REQUIRED"


def test_a_student_cannot_fill_the_face_limit_with_unreviewed_photos(pupil_class: EnrolledClass,
                                                                     student_user: Any) -> None:
    from recognition.services import MAX_PENDING_SELF_ENROLMENTS

    obama = pupil_class.students["obama"]
    photos = ["people/obama/obama.jpg", "people/obama/obama2.jpg", "probes/obama1.jpg"]
    for photo in photos[:MAX_PENDING_SELF_ENROLMENTS]:
        face_enrol(student=obama, image=pupil_class.bytes(photo), by=student_user)
    response = api_client_for(student_user).post(
        "/api/v1/students/me/faces/", {"image": pupil_class.photo("people/obama/obama3.jpg")}, format="multipart")
    assert response.status_code == 409 and response.json()["error_code"] == "FACE_APPROVALS_PENDING"


KIT_PHOTO = "people/kit_harington/john2.jpeg"  # Kit Harington's photo, which the teacher enrolled


def test_a_face_unlike_my_approved_faces_is_refused(teacher: Any, student_user: Any, faces: Path) -> None:
    """The attack of issue 19: Kit's face sent by Biden's login would, once approved, check Kit in as Biden."""
    enrolled = make_class(teacher=teacher, faces=faces)
    biden = enrolled.students["biden"]
    biden.user = student_user
    biden.save()
    response = api_client_for(student_user).post("/api/v1/students/me/faces/", {"image": enrolled.photo(KIT_PHOTO)},
                                                 format="multipart")
    assert response.status_code == 422, response.content
    assert response.json()["error_code"] == "FACE_NOT_YOURS"
    assert list(FaceEmbedding.objects.filter(student=biden).values_list("approval", flat=True)) == ["approved"]
    # A second photo of Biden himself is taken (for approval).
    own = api_client_for(student_user).post("/api/v1/students/me/faces/",
                                            {"image": enrolled.photo("people/biden/biden2.jpg")}, format="multipart")
    assert own.status_code == 201 and own.json()["approval"] == "pending"


def test_a_face_of_another_student_is_refused_and_logged(pupil_class: EnrolledClass, student_user: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Obama has no approved face yet: a photo of Kit, an enrolled student, is refused all the same."""
    obama = pupil_class.students["obama"]
    with caplog.at_level("WARNING", logger="recognition.services"):
        response = api_client_for(student_user).post("/api/v1/students/me/faces/",
                                                      {"image": pupil_class.photo(KIT_PHOTO)}, format="multipart")
    assert response.status_code == 422, response.content
    assert response.json()["error_code"] == "FACE_OF_ANOTHER_STUDENT"
    assert "Kit" not in response.json()["message"]  # whom it resembles is not told to the sender
    kit = pupil_class.students["kit_harington"]
    assert any(f"student {obama.pk}'s login matches student {kit.pk}" in r.getMessage() for r in caplog.records)
    assert not FaceEmbedding.objects.filter(student=obama).exists()


def test_the_approver_sees_the_photo_in_embeddings_only_mode(pupil_class: EnrolledClass, student_user: Any,
                                                             teacher: Any, settings: Any, client_for: ClientFor,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    settings.FACE_KEEP_SOURCE_IMAGES = False
    obama = pupil_class.students["obama"]
    face = face_enrol(student=obama, image=pupil_class.bytes("people/obama/obama.jpg"), by=student_user)
    assert face.source_image, "the approver must see what they approve"
    stored = face.source_image.name
    client = client_for(teacher)
    assert f"/faces/{face.pk}/image" in client.get(f"/students/{obama.pk}/").content.decode()
    assert client.get(f"/faces/{face.pk}/image").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/students/{obama.pk}/faces/{face.pk}/review/", {"decision": "approve"})
    face.refresh_from_db()
    assert face.approval == "approved" and not face.source_image  # then the setting applies
    assert not default_storage.exists(stored)
    # A face the teacher enrols is not kept in this mode, as before.
    staff = face_enrol(student=obama, image=pupil_class.bytes("people/obama/obama2.jpg"), by=teacher)
    assert not staff.source_image
