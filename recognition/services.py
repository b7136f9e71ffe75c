"""Writes of the recognition app: enrolled face embeddings and their stored photos."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from rest_framework import status

from accounts.models import StudentProfile, User
from recognition.backends import get_backend
from recognition.backends.base import RecognitionError
from recognition.images import decode_image, image_to_jpeg
from recognition.models import FaceEmbedding
from recognition.quality import check_face_quality
from smart_attendance.api.errors import DomainError


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def face_enrol(*, student: StudentProfile, image: bytes, by: User | None, filename: str = "") -> FaceEmbedding:
    """Enrols one face of `student` from a photo of them alone.

    Refused without recorded consent (CONSENT_REQUIRED), past MAX_FACES_PER_STUDENT
    (FACE_LIMIT_REACHED), for a photo already enrolled (FACE_ALREADY_ENROLLED); the photo must pass
    the backend's checks (one face, area ratio) and the quality gate (size, sharpness, exposure),
    which raise FaceQualityError / InvalidImageError. The photo is kept (as a re-encoded JPEG
    without metadata) only when FACE_KEEP_SOURCE_IMAGES is on."""
    if not student.consent_given:
        raise DomainError(
            f"{student.full_name} has no recorded consent for face recognition; record it first or mark "
            "attendance manually.", error_code="CONSENT_REQUIRED", status_code=status.HTTP_403_FORBIDDEN)
    digest = content_hash(image)
    if FaceEmbedding.objects.filter(student=student, content_hash=digest).exists():
        raise DomainError("This photo is already enrolled for this student.", error_code="FACE_ALREADY_ENROLLED",
                          status_code=status.HTTP_409_CONFLICT)
    if FaceEmbedding.objects.filter(student=student).count() >= settings.MAX_FACES_PER_STUDENT:
        raise DomainError(
            f"{student.full_name} already has {settings.MAX_FACES_PER_STUDENT} faces enrolled; delete one first.",
            error_code="FACE_LIMIT_REACHED", status_code=status.HTTP_409_CONFLICT)
    decoded = decode_image(image)
    backend = get_backend()
    encoded = backend.encode_face(decoded)  # the pixels decoded above (a remote backend sends the bytes)
    # A copy is named as such, even when the copy is also worse than the quality gate allows.
    _refuse_near_duplicate(student=student, embedding=encoded.embedding)
    check_face_quality(decoded.pixels, encoded.box)
    return _face_save(student=student, encoded=encoded, by=by, digest=digest,
                      photo=image_to_jpeg(decoded.pixels, quality=95))


def _refuse_near_duplicate(*, student: StudentProfile, embedding: np.ndarray) -> None:
    """The same photo saved again (another JPEG quality, resized, re-sent by the camera) has another
    hash but almost the same embedding (about 0.05 apart; two different photos of one person are
    0.3 or more): it adds nothing and would crowd out real variety, so it is refused."""
    existing = [face.embedding for face in FaceEmbedding.objects.filter(student=student)]
    if not existing:
        return
    nearest = float(np.min(np.linalg.norm(np.asarray(existing) - embedding, axis=1)))
    if nearest < settings.FACE_DUPLICATE_DISTANCE:
        raise DomainError(
            "This face is already enrolled for this student (a copy of an enrolled photo); use a different "
            "photo.", error_code="FACE_ALREADY_ENROLLED", status_code=status.HTTP_409_CONFLICT,
            details={"distance": round(nearest, 3), "max_distance": settings.FACE_DUPLICATE_DISTANCE})


@dataclass(frozen=True)
class EnrolOutcome:
    path: Path
    face: FaceEmbedding | None
    error_code: str = ""
    message: str = ""


def face_enrol_path(*, student: StudentProfile, path: Path, by: User | None) -> EnrolOutcome:
    """Enrols the photo at `path`; the refusal (code and message) is returned, not raised, so that
    commands can report each photo of a folder and go on."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return EnrolOutcome(path, None, "UNREADABLE_FILE", exc.strerror or str(exc))
    try:
        return EnrolOutcome(path, face_enrol(student=student, image=data, by=by, filename=path.name))
    except RecognitionError as exc:
        return EnrolOutcome(path, None, exc.error_code, exc.message)
    except DomainError as exc:
        return EnrolOutcome(path, None, exc.error_code, str(exc.detail))


def photo_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _face_save(*, student: StudentProfile, encoded, by: User | None, digest: str, photo: bytes) -> FaceEmbedding:
    info = get_backend().model_info()
    face = FaceEmbedding(
        student=student, model_name=info.name, model_version=info.version,
        detector=info.enrolment_detector or info.detector,
        num_jitters=get_backend().options.get("ENROLMENT_JITTERS", 5),
        box_top=encoded.box.top, box_right=encoded.box.right, box_bottom=encoded.box.bottom,
        box_left=encoded.box.left, face_area_ratio=encoded.face_area_ratio,
        image_width=encoded.image_size[0], image_height=encoded.image_size[1],
        content_hash=digest, enrolled_by=by,
    )
    face.embedding = encoded.embedding
    if settings.FACE_KEEP_SOURCE_IMAGES:
        face.source_image.save("face.jpg", ContentFile(photo), save=False)
    try:
        with transaction.atomic():
            face.save()
    except IntegrityError:
        # The same photo enrolled by a concurrent request: keep theirs, drop our file.
        if face.source_image:
            face.source_image.storage.delete(face.source_image.name)
        raise DomainError("This photo is already enrolled for this student.", error_code="FACE_ALREADY_ENROLLED",
                          status_code=status.HTTP_409_CONFLICT) from None
    return face


def face_reencode(*, face: FaceEmbedding) -> FaceEmbedding:
    """Re-computes a face's embedding from its kept photo with the current backend (after a model
    change). Raises DomainError NO_SOURCE_IMAGE in embeddings-only mode."""
    if not face.source_image:
        raise DomainError("No photo was kept for this face; it must be enrolled again.",
                          error_code="NO_SOURCE_IMAGE", status_code=status.HTTP_409_CONFLICT)
    with face.source_image.open("rb") as handle:
        data = handle.read()
    backend = get_backend()
    encoded = backend.encode_face(data)
    info = backend.model_info()
    face.embedding = encoded.embedding
    face.model_name, face.model_version = info.name, info.version
    face.detector = info.enrolment_detector or info.detector
    face.num_jitters = backend.options.get("ENROLMENT_JITTERS", 5)
    face.box_top, face.box_right, face.box_bottom, face.box_left = (
        encoded.box.top, encoded.box.right, encoded.box.bottom, encoded.box.left)
    face.face_area_ratio = encoded.face_area_ratio
    face.save()
    return face


def face_embedding_delete(*, face: FaceEmbedding) -> None:
    """Deletes one enrolled face and its stored photo (in whatever storage holds it)."""
    photo = face.source_image
    face.delete()
    if photo:
        # After commit: a rolled-back delete must not have lost the file.
        name, storage = photo.name, photo.storage
        transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def face_embeddings_delete(*, student: StudentProfile) -> int:
    """Deletes every enrolled face of a student and their stored photos; returns how many."""
    faces = list(FaceEmbedding.objects.filter(student=student))
    for face in faces:
        face_embedding_delete(face=face)
    return len(faces)
