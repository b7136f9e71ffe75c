"""Face enrolment through the REST API: consent, the quality gate, duplicates and the cap, deletion
with the files, embeddings never shown, self-enrolment (split from tests/attendance/test_api_guards.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition.models import FaceEmbedding
from tests import factories
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db


def test_enrolment_needs_consent(teacher: Any, teacher_api: Any, faces: Any) -> None:
    student = factories.StudentFactory(consent_given=False, created_by=teacher)
    response = teacher_api.post(f"/api/v1/students/{student.pk}/faces/", {
        "image": SimpleUploadedFile("o.jpg", (faces / "people/obama/obama.jpg").read_bytes())}, format="multipart")
    assert response.status_code == 403 and response.json()["error_code"] == "CONSENT_REQUIRED"
    assert not FaceEmbedding.objects.exists()
    assert not default_storage.exists("faces") or not default_storage.listdir("faces")[1]


@pytest.mark.parametrize(("photo", "status", "code"), [
    ("edge/no_face_dogs.jpg", 422, "NO_FACE_FOUND"),
    ("groups/two_people.jpg", 422, "MULTIPLE_FACES"),
    ("people/obama/obama3.jpg", 422, "FACE_TOO_SMALL"),
])
def test_enrolment_quality_gate(teacher: Any, teacher_api: Any, faces: Any, photo: str, status: int,
                                code: str) -> None:
    student = factories.StudentFactory(created_by=teacher)
    response = teacher_api.post(f"/api/v1/students/{student.pk}/faces/", {
        "image": SimpleUploadedFile("p.jpg", (faces / photo).read_bytes())}, format="multipart")
    assert response.status_code == status and response.json()["error_code"] == code
    assert response.json()["message"]
    assert not FaceEmbedding.objects.exists()


def test_blurred_and_dark_faces_are_refused_in_words(teacher: Any, teacher_api: Any, faces: Any) -> None:
    from PIL import ImageFilter

    student = factories.StudentFactory(created_by=teacher)
    original = Image.open(faces / "people/obama/obama.jpg").convert("RGB")
    variants = {"FACE_BLURRY": original.filter(ImageFilter.GaussianBlur(6)),
                "FACE_TOO_DARK": original.point(lambda v: int(v * 0.2))}
    for code, image in variants.items():
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=95)
        response = teacher_api.post(f"/api/v1/students/{student.pk}/faces/", {
            "image": SimpleUploadedFile("p.jpg", buffer.getvalue())}, format="multipart")
        if response.status_code == 422 and response.json()["error_code"] == "NO_FACE_FOUND":
            continue  # the detector may not even find so degraded a face: refused all the same
        assert response.status_code == 422 and response.json()["error_code"] == code, response.json()
    assert not FaceEmbedding.objects.exists()


def test_enrolled_faces_never_show_the_embedding(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    obama = enrolled_class.students["obama"]
    body = teacher_api.get(f"/api/v1/students/{obama.pk}/faces/").json()
    assert len(body) == 1 and body[0]["has_photo"] is True
    assert not {"vector", "embedding"} & set(body[0])
    assert "vector" not in str(body)


def test_deleting_a_student_removes_their_embeddings_and_files(
        admin_api: Any, enrolled_class: EnrolledClass, django_capture_on_commit_callbacks: Any) -> None:
    obama = enrolled_class.students["obama"]
    names = [f.source_image.name for f in obama.face_embeddings.all()]
    assert names and all(default_storage.exists(n) for n in names)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.delete(f"/api/v1/students/{obama.pk}/")
    assert response.status_code == 204
    assert not FaceEmbedding.objects.filter(student_id=obama.pk).exists()
    assert not any(default_storage.exists(n) for n in names)


def test_deleting_one_face_removes_its_file(teacher_api: Any, enrolled_class: EnrolledClass,
                                            django_capture_on_commit_callbacks: Any) -> None:
    biden = enrolled_class.students["biden"]
    face = biden.face_embeddings.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = teacher_api.delete(f"/api/v1/students/{biden.pk}/faces/{face.pk}/")
    assert response.status_code == 204
    assert not default_storage.exists(face.source_image.name)
    assert not biden.face_embeddings.exists()


def test_embeddings_only_mode_keeps_no_photo(teacher: Any, teacher_api: Any, faces: Any, settings: Any) -> None:
    settings.FACE_KEEP_SOURCE_IMAGES = False
    student = factories.StudentFactory(created_by=teacher)
    response = teacher_api.post(f"/api/v1/students/{student.pk}/faces/", {
        "image": SimpleUploadedFile("o.jpg", (faces / "people/obama/obama.jpg").read_bytes())}, format="multipart")
    assert response.status_code == 201 and response.json()["has_photo"] is False
    assert FaceEmbedding.objects.get().source_image.name == ""



def test_a_student_enrols_their_own_face(student_user: Any, student_api: Any, teacher_api: Any, faces: Any) -> None:
    profile = factories.StudentFactory(user=student_user, consent_given=True)
    photo = SimpleUploadedFile("me.jpg", (faces / "people/rose_leslie/img1.jpg").read_bytes())
    response = student_api.post("/api/v1/students/me/faces/", {"image": photo}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["student"] == profile.pk
    assert [f["id"] for f in student_api.get("/api/v1/students/me/faces/").json()] == [response.json()["id"]]
    other = factories.StudentFactory()
    assert student_api.get(f"/api/v1/students/{other.pk}/faces/").status_code == 404
    not_a_student = teacher_api.post("/api/v1/students/me/faces/", {"image": photo}, format="multipart")
    assert not_a_student.status_code == 403 and not_a_student.json()["error_code"] == "NOT_A_STUDENT"


def test_the_same_photo_is_not_enrolled_twice_and_the_cap_holds(teacher: Any, teacher_api: Any, faces: Any,
                                                                settings: Any) -> None:
    settings.MAX_FACES_PER_STUDENT = 2
    student = factories.StudentFactory(created_by=teacher)
    url = f"/api/v1/students/{student.pk}/faces/"

    def post(relative: str) -> Any:
        return teacher_api.post(url, {"image": SimpleUploadedFile("p.jpg", (faces / relative).read_bytes())},
                                format="multipart")

    assert post("people/obama/obama.jpg").status_code == 201
    again = post("people/obama/obama.jpg")
    assert again.status_code == 409 and again.json()["error_code"] == "FACE_ALREADY_ENROLLED"
    assert post("people/obama/obama2.jpg").status_code == 201
    full = post("edge/obama_partial_face.jpg")
    assert full.status_code == 409 and full.json()["error_code"] == "FACE_LIMIT_REACHED"
    assert FaceEmbedding.objects.filter(student=student).count() == 2


@pytest.mark.django_db(transaction=True)  # each request commits, so a dangling reference fails as it would live
def test_a_face_deleted_while_its_student_is_deleted_is_not_found(teacher: Any, teacher_api: Any,
                                                                  monkeypatch: Any) -> None:
    from accounts import services as account_services
    from accounts.models import StudentProfile
    from recognition import faces_api
    from tests.people_data import stored_face

    student = factories.StudentFactory(created_by=teacher, consent_given=True)
    face = stored_face(student, with_photo=False)
    found = faces_api.get_object_or_404

    def found_then_student_deleted(*args: Any, **kwargs: Any) -> Any:
        result = found(*args, **kwargs)
        if isinstance(result, FaceEmbedding):  # the other request deletes the student at this moment
            account_services.student_delete(student=StudentProfile.objects.get(pk=student.pk), by=teacher)
        return result

    monkeypatch.setattr(faces_api, "get_object_or_404", found_then_student_deleted)
    response = teacher_api.delete(f"/api/v1/students/{student.pk}/faces/{face.pk}/")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    assert not FaceEmbedding.objects.filter(pk=face.pk).exists()
    assert not StudentProfile.objects.filter(pk=student.pk).exists()


def test_a_face_deleted_by_another_request_cannot_be_approved_or_rejected(teacher: Any) -> None:
    from recognition import services
    from tests.people_data import stored_face

    face = stored_face(factories.StudentFactory(created_by=teacher, consent_given=True), with_photo=False)
    FaceEmbedding.objects.filter(pk=face.pk).delete()
    for decide in (services.face_approve, services.face_reject):
        with pytest.raises(services.DomainError) as refused:
            decide(face=face, by=teacher)
        assert refused.value.error_code == "NOT_FOUND"
