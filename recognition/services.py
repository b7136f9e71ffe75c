"""Writes of the recognition app: enrolled face embeddings and their stored photos."""

from __future__ import annotations

from django.db import transaction

from accounts.models import StudentProfile
from recognition.models import FaceEmbedding


def face_embedding_delete(*, face: FaceEmbedding) -> None:
    """Deletes one enrolled face and its stored photo (in whatever storage holds it)."""
    photo = face.source_image
    face.delete()
    if photo:
        # After commit: a rolled-back delete must not have lost the file.
        transaction.on_commit(lambda: photo.storage.delete(photo.name))


@transaction.atomic
def face_embeddings_delete(*, student: StudentProfile) -> int:
    """Deletes every enrolled face of a student and their stored photos; returns how many."""
    faces = list(FaceEmbedding.objects.filter(student=student))
    for face in faces:
        face_embedding_delete(face=face)
    return len(faces)
