"""Writes of the recognition app: enrolled face embeddings and their stored photos."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.consent import Erased, erasure_receipt_write
from accounts.models import ErasureReceipt, StudentProfile, User
from recognition.backends import get_backend
from recognition.errors import RecognitionError
from recognition.images import decode_image, image_to_jpeg
from recognition.matching import DEFAULT_UNCERTAIN_THRESHOLD, nearest_distance
from recognition.models import FaceEmbedding
from recognition.picture_hash import picture_hash
from recognition.quality import check_face_quality
from school.errors import DomainError, ErrorKind

logger = logging.getLogger(__name__)

# Self-enrolled faces a student may have waiting for approval at once.
MAX_PENDING_SELF_ENROLMENTS = 3
# A self-enrolled face must be nearer than this to one of the student's approved faces, and no other
# student's approved face may be nearer than that (and nearer than this) — dlib's "same person" line.
SELF_ENROL_MAX_DISTANCE = DEFAULT_UNCERTAIN_THRESHOLD


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def face_enrol(*, student: StudentProfile, image: bytes, by: User | None, filename: str = "") -> FaceEmbedding:
    """Enrols one face of `student` from a photo of them alone.

    Refused without recorded consent (CONSENT_REQUIRED), past MAX_FACES_PER_STUDENT
    (FACE_LIMIT_REACHED), for a photo already enrolled (FACE_ALREADY_ENROLLED); the photo must pass
    the backend's checks (one face, area ratio) and the quality gate (size, inter-eye distance,
    exposure, even lighting, sharpness, head pose: recognition/quality.py), which raise
    FaceQualityError / InvalidImageError. The photo is kept (as a re-encoded JPEG
    without metadata) only when FACE_KEEP_SOURCE_IMAGES is on.

    A face enrolled by a student's own login waits for staff approval (`approval` pending) and is
    not matched until then; it must be the student's own (`_refuse_foreign_face`), and its photo is kept
    for the approver whatever FACE_KEEP_SOURCE_IMAGES says (`face_approve` then applies it). Consent is
    checked again, under a lock of the student row, when the
    face is saved: a withdrawal during the (slow) encoding cannot leave an embedding behind."""
    if not student.consent_given:
        raise _consent_required(student)
    digest = content_hash(image)
    if FaceEmbedding.objects.filter(student=student, content_hash=digest).exists():
        raise DomainError("This photo is already enrolled for this student.", error_code="FACE_ALREADY_ENROLLED",
                          kind=ErrorKind.CONFLICT)
    if by is not None and by.is_student and FaceEmbedding.objects.filter(
            student=student, approval=FaceEmbedding.Approval.PENDING).count() >= MAX_PENDING_SELF_ENROLMENTS:
        # A student must not fill the face limit with unreviewed photos.
        raise DomainError(
            f"{MAX_PENDING_SELF_ENROLMENTS} of your photos are already waiting for your teacher's approval; "
            "wait for their decision first.", error_code="FACE_APPROVALS_PENDING",
            kind=ErrorKind.CONFLICT)
    if FaceEmbedding.objects.enrolled().filter(student=student).count() >= settings.MAX_FACES_PER_STUDENT:
        raise DomainError(
            f"{student.full_name} already has {settings.MAX_FACES_PER_STUDENT} faces enrolled; delete one first.",
            error_code="FACE_LIMIT_REACHED", kind=ErrorKind.CONFLICT)
    decoded = decode_image(image)
    backend = get_backend()
    encoded = backend.encode_face(decoded)  # the pixels decoded above (a remote backend sends the bytes)
    # A copy is named as such, even when the copy is also worse than the quality gate allows.
    _refuse_near_duplicate(student=student, embedding=encoded.embedding)
    if by is not None and by.is_student:
        _refuse_foreign_face(student=student, embedding=encoded.embedding)
    # The pose needs dlib's 68 landmarks: both backends give them with face_pose (one jitter, cheap).
    posed = backend.face_pose(decoded)
    check_face_quality(decoded.pixels, encoded.box, posed.landmarks)
    return _face_save(student=student, encoded=encoded, by=by, digest=digest,
                      photo=image_to_jpeg(decoded.pixels, quality=95), picture=picture_hash(decoded.pixels))


def _refuse_near_duplicate(*, student: StudentProfile, embedding: np.ndarray) -> None:
    """The same photo saved again (another JPEG quality, resized, re-sent by the camera) has another
    hash but almost the same embedding (about 0.05 apart; two different photos of one person are
    0.3 or more): it adds nothing and would crowd out real variety, so it is refused."""
    existing = [face.embedding for face in FaceEmbedding.objects.filter(student=student)]
    if not existing:
        return
    nearest = nearest_distance(embedding, existing)
    if nearest < settings.FACE_DUPLICATE_DISTANCE:
        raise DomainError(
            "This face is already enrolled for this student (a copy of an enrolled photo); use a different "
            "photo.", error_code="FACE_ALREADY_ENROLLED", kind=ErrorKind.CONFLICT,
            details={"distance": round(nearest, 3), "max_distance": settings.FACE_DUPLICATE_DISTANCE})


def _refuse_foreign_face(*, student: StudentProfile, embedding: np.ndarray) -> None:
    """A student's own photo of their face, not a friend's: a face enrolled by the student's login must
    be the same person as their approved faces (FACE_NOT_YOURS), and must not be nearer to another
    student's approved face than to theirs (FACE_OF_ANOTHER_STUDENT, logged as a warning: it is what an
    attempt to check in as someone else looks like). The refusal does not say whom the face resembles."""
    approved = FaceEmbedding.objects.filter(approval=FaceEmbedding.Approval.APPROVED)
    own = [face.embedding for face in approved.filter(student=student)]
    own_distance = nearest_distance(embedding, own) if own else None
    if own_distance is not None and own_distance >= SELF_ENROL_MAX_DISTANCE:
        raise DomainError(
            "This photo does not look like your enrolled face; enrol a photo of yourself, or ask your teacher.",
            error_code="FACE_NOT_YOURS", kind=ErrorKind.UNPROCESSABLE,
            details={"distance": round(own_distance, 3), "max_distance": SELF_ENROL_MAX_DISTANCE})
    limit = SELF_ENROL_MAX_DISTANCE if own_distance is None else own_distance
    nearest_other: tuple[float, int] | None = None
    for student_id, vector in approved.exclude(student=student).values_list("student_id", "vector").iterator():
        face = FaceEmbedding(vector=vector)
        distance = nearest_distance(embedding, [face.embedding])
        if distance < limit and (nearest_other is None or distance < nearest_other[0]):
            nearest_other = (distance, student_id)
    if nearest_other is not None:
        logger.warning("self-enrolment refused: a photo sent by student %s's login matches student %s "
                       "(distance %.3f, own %s)", student.pk, nearest_other[1], nearest_other[0],
                       "none" if own_distance is None else f"{own_distance:.3f}")
        raise DomainError(
            "This photo looks like another student, not you; enrol a photo of yourself.",
            error_code="FACE_OF_ANOTHER_STUDENT", kind=ErrorKind.UNPROCESSABLE)


def _consent_required(student: StudentProfile) -> DomainError:
    return DomainError(
        f"{student.full_name} has no recorded consent for face recognition; record it first or mark "
        "attendance manually.", error_code="CONSENT_REQUIRED", kind=ErrorKind.FORBIDDEN)


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
        return EnrolOutcome(path, None, exc.error_code, exc.message)


def photo_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _face_save(*, student: StudentProfile, encoded, by: User | None, digest: str, photo: bytes,
               picture: str) -> FaceEmbedding:
    info = get_backend().model_info()
    face = FaceEmbedding(
        student=student, model_name=info.name, model_version=info.version,
        detector=info.enrolment_detector or info.detector,
        num_jitters=get_backend().options.get("ENROLMENT_JITTERS", 5),
        box_top=encoded.box.top, box_right=encoded.box.right, box_bottom=encoded.box.bottom,
        box_left=encoded.box.left, face_area_ratio=encoded.face_area_ratio,
        image_width=encoded.image_size[0], image_height=encoded.image_size[1],
        content_hash=digest, picture_hash=picture, enrolled_by=by,
        approval=(FaceEmbedding.Approval.PENDING if by is not None and by.is_student
                  else FaceEmbedding.Approval.APPROVED),
    )
    face.embedding = encoded.embedding
    # The approver of a self-enrolled face must see it, whatever the setting: face_approve applies it.
    if settings.FACE_KEEP_SOURCE_IMAGES or face.is_pending:
        face.source_image.save("face.jpg", ContentFile(photo), save=False)
    try:
        with transaction.atomic():
            # The same lock consent_record takes: consent is read as it is now, not as it was.
            if not StudentProfile.objects.select_for_update().filter(pk=student.pk, consent_given=True).exists():
                raise _consent_required(student)
            face.save()
    except IntegrityError:
        face_photo_drop(face)  # the same photo enrolled by a concurrent request: keep theirs
        raise DomainError("This photo is already enrolled for this student.", error_code="FACE_ALREADY_ENROLLED",
                          kind=ErrorKind.CONFLICT) from None
    except BaseException:
        face_photo_drop(face)
        raise
    return face


def face_photo_drop(face: FaceEmbedding) -> None:
    if face.source_image.name:
        face.source_image.storage.delete(face.source_image.name)


def face_reencode(*, face: FaceEmbedding) -> FaceEmbedding:
    """Re-computes a face's embedding from its kept photo with the current backend (after a model
    change). Raises DomainError NO_SOURCE_IMAGE in embeddings-only mode."""
    if not face.source_image:
        raise DomainError("No photo was kept for this face; it must be enrolled again.",
                          error_code="NO_SOURCE_IMAGE", kind=ErrorKind.CONFLICT)
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


def faces_delete(faces: list[FaceEmbedding]) -> tuple[int, int]:
    """Deletes the rows, then (after commit: a rolled-back delete must not lose a file) their photos."""
    photos = 0
    for face in faces:
        photo = face.source_image
        face.delete()
        if photo.name:
            photos += 1
            transaction.on_commit(partial(photo.storage.delete, photo.name))
    return len(faces), photos


@transaction.atomic
def face_embedding_delete(*, face: FaceEmbedding, by: User | None = None,
                          rule: str = ErasureReceipt.Rule.FACE_DELETED) -> ErasureReceipt:
    """Deletes one enrolled face and its stored photo (in whatever storage holds it), with a receipt.

    A student (`by` their own login) may delete only the faces they enrolled themself; a face
    staff enrolled is refused with FACE_ENROLLED_BY_STAFF (403)."""
    if by is not None and by.is_student and not face.self_enrolled:
        raise DomainError("This face was enrolled by the school; ask your teacher to remove it, or withdraw "
                          "consent to delete every face.", error_code="FACE_ENROLLED_BY_STAFF",
                          kind=ErrorKind.FORBIDDEN)
    locked = _face_locked(face)
    embeddings, photos = faces_delete([locked])
    return erasure_receipt_write(student=locked.student, rule=rule, embeddings=embeddings, photos=photos, by=by,
                                 learned=embeddings if locked.is_learned else 0)


def _face_locked(face: FaceEmbedding) -> FaceEmbedding:
    """`face` read again under a lock, its student's row locked first (as student_delete locks it, so
    the two wait for each other instead of deadlocking). A face or student deleted by another request
    since the caller read it is NOT_FOUND: never a receipt naming a deleted student (an IntegrityError)."""
    student = StudentProfile.objects.select_for_update().filter(pk=face.student_id).first()
    locked = FaceEmbedding.objects.select_for_update().filter(pk=face.pk, student=student).first()
    if student is None or locked is None:
        raise DomainError("This face no longer exists.", error_code="NOT_FOUND", kind=ErrorKind.NOT_FOUND)
    locked.student = student
    return locked


@transaction.atomic
def face_embeddings_erase(student: StudentProfile) -> Erased:
    """Deletes every enrolled face of a student and their stored photos (registered with
    `accounts.consent.biometric_holder_register`: withdrawal and erasure reach the faces), learned
    ones included (and counted apart on the receipt)."""
    faces = list(FaceEmbedding.objects.filter(student=student))
    embeddings, photos = faces_delete(faces)
    return Erased(embeddings=embeddings, photos=photos, learned=sum(face.is_learned for face in faces))


@transaction.atomic
def face_approve(*, face: FaceEmbedding, by: User) -> FaceEmbedding:
    """Staff approve a self-enrolled face, or a learned face held for review: from now on it is matched
    (audited: who, when; a held one enters the learned faces' rolling window). Its photo, kept for the
    decision, then goes in embeddings-only mode (FACE_KEEP_SOURCE_IMAGES=false), after the commit."""
    face = _face_locked(face)
    if not face.awaits_decision:
        raise DomainError("This face is not waiting for approval.", error_code="FACE_NOT_PENDING",
                          kind=ErrorKind.CONFLICT)
    face.approval, face.approved_by, face.approved_at = FaceEmbedding.Approval.APPROVED, by, timezone.now()
    fields = ["approval", "approved_by", "approved_at"]
    if not settings.FACE_KEEP_SOURCE_IMAGES and face.source_image.name:
        transaction.on_commit(partial(face.source_image.storage.delete, face.source_image.name))
        face.source_image = ""
        fields.append("source_image")
    face.save(update_fields=fields)
    if face.is_learned:
        learned_window_trim(student=face.student, held=False)
    return face


@transaction.atomic
def face_reject(*, face: FaceEmbedding, by: User) -> ErasureReceipt:
    """Staff reject a self-enrolled face or discard a held learned one: it is deleted with its photo, and
    the receipt says who and when."""
    face = _face_locked(face)
    if not face.awaits_decision:
        raise DomainError("This face is not waiting for approval.", error_code="FACE_NOT_PENDING",
                          kind=ErrorKind.CONFLICT)
    return face_embedding_delete(face=face, by=by, rule=ErasureReceipt.Rule.FACE_REJECTED)


def learned_window_trim(*, student: StudentProfile, held: bool) -> None:
    """The rolling window: beyond FACE_LEARNED_PER_STUDENT learned faces in use (or held), the oldest go,
    with a receipt. Called under the student's lock."""
    approval = FaceEmbedding.Approval.HELD if held else FaceEmbedding.Approval.APPROVED
    learned = FaceEmbedding.objects.learned().filter(student=student, approval=approval).order_by("-created_at",
                                                                                                 "-pk")
    surplus = list(learned[settings.FACE_LEARNED_PER_STUDENT:])
    if surplus:
        embeddings, photos = faces_delete(surplus)
        erasure_receipt_write(student=student, rule=ErasureReceipt.Rule.LEARNED_ROTATED, embeddings=embeddings,
                              photos=photos, by=None, learned=embeddings)
