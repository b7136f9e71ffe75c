"""A face already enrolled is refused even when the file differs (re-encoded, another JPEG quality)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recognition.models import FaceEmbedding
from recognition.services import face_enrol
from school.errors import DomainError, ErrorKind
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def reencoded(data: bytes, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def test_the_same_face_at_another_jpeg_quality_is_not_enrolled_twice(teacher: Any, read: Any) -> None:
    student = factories.StudentFactory(created_by=teacher)
    original = read("people/obama/obama.jpg")
    face_enrol(student=student, image=original, by=teacher)
    for quality in (95, 75, 60):
        copy = reencoded(original, quality)
        assert copy != original  # another file, another hash: the hash check alone lets it in
        with pytest.raises(DomainError) as refused:
            face_enrol(student=student, image=copy, by=teacher)
        assert refused.value.error_code == "FACE_ALREADY_ENROLLED" and refused.value.kind is ErrorKind.CONFLICT
        assert refused.value.details["distance"] < 0.2
    assert FaceEmbedding.objects.filter(student=student).count() == 1
    # Another photo of the same person is real variety: enrolled.
    face_enrol(student=student, image=read("people/obama/obama2.jpg"), by=teacher)
    assert FaceEmbedding.objects.filter(student=student).count() == 2


def test_the_api_answers_409_for_a_re_encoded_copy(teacher: Any, teacher_api: Any, read: Any) -> None:
    student = factories.StudentFactory(created_by=teacher)
    url = f"/api/v1/students/{student.pk}/faces/"
    original = read("people/obama/obama.jpg")
    first = teacher_api.post(url, {"image": SimpleUploadedFile("a.jpg", original)}, format="multipart")
    assert first.status_code == 201
    copy = teacher_api.post(url, {"image": SimpleUploadedFile("b.jpg", reencoded(original, 70))}, format="multipart")
    assert copy.status_code == 409
    assert copy.json()["error_code"] == "FACE_ALREADY_ENROLLED"


def test_the_same_photo_for_another_student_is_not_a_duplicate(teacher: Any, read: Any) -> None:
    # Only the student's own faces are compared (a mix-up between students is the teacher's call).
    original = read("people/obama/obama.jpg")
    face_enrol(student=factories.StudentFactory(created_by=teacher), image=original, by=teacher)
    face_enrol(student=factories.StudentFactory(created_by=teacher), image=reencoded(original, 70), by=teacher)
    assert FaceEmbedding.objects.count() == 2
