"""Deleting through the Django admin removes biometric files too (it goes through the services)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from recognition.models import FaceEmbedding
from recognition.services import face_enrol
from tests import factories
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def test_admin_delete_of_a_student_removes_embeddings_and_files(admin_user: Any, faces: Path,
                                                               django_capture_on_commit_callbacks: Any,
                                                               client_for: ClientFor) -> None:
    student = factories.StudentFactory()
    face = face_enrol(student=student, image=(faces / "people/obama/obama.jpg").read_bytes(), by=admin_user)
    assert default_storage.exists(face.source_image.name)
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/accounts/studentprofile/{student.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not FaceEmbedding.objects.exists()
    assert not default_storage.exists(face.source_image.name)


def test_admin_bulk_delete_of_faces_removes_files(admin_user: Any, faces: Path,
                                                  django_capture_on_commit_callbacks: Any,
                                                  client_for: ClientFor) -> None:
    student = factories.StudentFactory()
    face = face_enrol(student=student, image=(faces / "people/biden/biden.jpg").read_bytes(), by=admin_user)
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/recognition/faceembedding/", {
            "action": "delete_selected", "_selected_action": [face.pk], "post": "yes"})
    assert response.status_code == 302
    assert not FaceEmbedding.objects.exists()
    assert not default_storage.exists(face.source_image.name)


def test_the_face_admin_never_shows_the_vector(admin_user: Any, faces: Path, client_for: ClientFor) -> None:
    student = factories.StudentFactory()
    face = face_enrol(student=student, image=(faces / "people/obama/obama.jpg").read_bytes(), by=admin_user)
    client = client_for(admin_user)
    page = client.get(f"/admin/recognition/faceembedding/{face.pk}/change/").content.decode()
    assert "dlib_face_recognition_resnet_model_v1" in page
    assert "vector" not in page.lower() and str(face.embedding[0])[:8] not in page
