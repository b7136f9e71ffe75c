"""Faces that grow with the child: a classroom face a teacher confirmed becomes one of the student's faces
(README "Faces that grow with the child"). The caller (attendance) cuts the face from its photo and passes
its provenance as plain values; recognition never reads attendance's models."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.consent import erasure_receipt_write
from accounts.models import ErasureReceipt, StudentProfile, User
from recognition.backends import get_backend
from recognition.images import decode_image, image_to_jpeg
from recognition.matching import nearest_distance
from recognition.models import FaceEmbedding
from recognition.quality import check_face_quality
from recognition.results import EncodedFace
from recognition.services import content_hash, face_photo_drop, faces_delete, learned_window_trim

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnedFrom:
    """Where a classroom face comes from, in plain values (recognition does not know attendance's models):
    the ids of the session, photo and detected face, how a teacher vouched for it, and words for people
    (the course and the date) that outlive the photo."""

    how: str  # FaceEmbedding.LearnedHow
    session_id: int
    photo_id: int
    face_id: int
    context: str


def face_learn(*, student: StudentProfile, image: bytes, learned_from: LearnedFrom,
               by: User | None) -> FaceEmbedding | None:
    """A classroom face a teacher confirmed as `student` (a crop of the photo around it, as `image`)
    becomes one of their faces, so recognition follows the child as they grow.

    Nothing is learned without consent, when learning is off (FACE_LEARNED_PER_STUDENT=0), for a face
    already learned, or for a near copy of a face the student has (None is returned). The crop must pass
    enrolment's checks and quality floor (FaceQualityError / InvalidImageError are raised). A face at
    FACE_LEARN_MAX_DISTANCE or further from every face of the student in use (or a student with none)
    is held for staff review, never matched: one wrong assignment must not teach a wrong face; so is a
    face nearer a classmate's face (a student sharing a course) than the student's own. The
    student keeps at most FACE_LEARNED_PER_STUDENT learned faces in use and as many held; the oldest
    goes, with a receipt; enrolled faces are never dropped."""
    if not student.consent_given or settings.FACE_LEARNED_PER_STUDENT == 0:
        return None
    if FaceEmbedding.objects.filter(student=student, learned_face_id=learned_from.face_id).exists():
        return None
    decoded = decode_image(image)
    encoded = get_backend().encode_face(decoded)
    check_face_quality(decoded.pixels, encoded.box)
    everything = [face.embedding for face in FaceEmbedding.objects.filter(student=student)]
    if everything and nearest_distance(encoded.embedding, everything) < settings.FACE_DUPLICATE_DISTANCE:
        return None  # adds nothing and would crowd out real variety
    in_use = [face.embedding for face in FaceEmbedding.objects.filter(
        student=student, approval=FaceEmbedding.Approval.APPROVED)]
    distance = nearest_distance(encoded.embedding, in_use) if in_use else None
    classmates = [face.embedding for face in FaceEmbedding.objects.matchable().filter(
        student__courses__students=student).exclude(student=student).distinct()]
    nearer_classmate = bool(classmates) and distance is not None and nearest_distance(
        encoded.embedding, classmates) < distance
    held = distance is None or distance >= settings.FACE_LEARN_MAX_DISTANCE or nearer_classmate
    face = _learned_face(student=student, encoded=encoded, learned_from=learned_from, by=by, held=held,
                         distance=distance)
    photo = image_to_jpeg(decoded.pixels, quality=95)
    # The reviewer of a held face must see it, whatever the setting (as for a self-enrolled one).
    if settings.FACE_KEEP_SOURCE_IMAGES or held:
        face.source_image.save("face.jpg", ContentFile(photo), save=False)
    try:
        with transaction.atomic():
            if not StudentProfile.objects.select_for_update().filter(pk=student.pk, consent_given=True).exists():
                face_photo_drop(face)
                return None
            face.save()
            learned_window_trim(student=student, held=held)
    except IntegrityError:
        face_photo_drop(face)  # the same face learned by a concurrent confirmation
        return None
    except BaseException:
        face_photo_drop(face)
        raise
    logger.info("face %s of photo %s %s for student %s (distance %s)", learned_from.face_id, learned_from.photo_id,
                "held for review" if held else "learned", student.pk,
                "none" if distance is None else f"{distance:.3f}")
    return face


def _learned_face(*, student: StudentProfile, encoded: EncodedFace, learned_from: LearnedFrom, by: User | None,
                  held: bool, distance: float | None) -> FaceEmbedding:
    backend = get_backend()
    info = backend.model_info()
    face = FaceEmbedding(
        student=student, model_name=info.name, model_version=info.version,
        detector=info.enrolment_detector or info.detector,
        num_jitters=backend.options.get("ENROLMENT_JITTERS", 5),
        box_top=encoded.box.top, box_right=encoded.box.right, box_bottom=encoded.box.bottom,
        box_left=encoded.box.left, face_area_ratio=encoded.face_area_ratio,
        image_width=encoded.image_size[0], image_height=encoded.image_size[1],
        content_hash=content_hash(f"classroom-face:{learned_from.face_id}".encode()), enrolled_by=by,
        approval=FaceEmbedding.Approval.HELD if held else FaceEmbedding.Approval.APPROVED,
        approved_by=None if held else by, approved_at=None if held else timezone.now(),
        source=FaceEmbedding.Source.LEARNED, learned_how=learned_from.how,
        learned_session_id=learned_from.session_id, learned_photo_id=learned_from.photo_id,
        learned_face_id=learned_from.face_id, learned_context=learned_from.context[:200],
        learned_distance=None if distance is None else round(distance, 4))
    face.embedding = encoded.embedding
    return face


@transaction.atomic
def learned_held_expire(*, older_than: datetime.timedelta, dry_run: bool = False) -> int:
    """Retention: held faces nobody decided on within `older_than` (the classroom photos' retention) are
    deleted, one receipt per student; a learned face in use keeps its crop no longer than its photo is
    kept (the embedding stays, like an enrolled face, while consent lasts). Returns the held faces deleted."""
    cutoff = timezone.now() - older_than
    held = FaceEmbedding.objects.learned().filter(approval=FaceEmbedding.Approval.HELD, created_at__lt=cutoff)
    if dry_run:
        return held.count()
    deleted = 0
    for student_id in held.values_list("student_id", flat=True).distinct():
        student = StudentProfile.objects.select_for_update().get(pk=student_id)
        embeddings, photos = faces_delete(list(held.filter(student=student)))
        erasure_receipt_write(student=student, rule=ErasureReceipt.Rule.HELD_EXPIRED, embeddings=embeddings,
                              photos=photos, by=None, learned=embeddings)
        deleted += embeddings
    for face in FaceEmbedding.objects.learned().filter(created_at__lt=cutoff).exclude(source_image=""):
        transaction.on_commit(partial(face.source_image.storage.delete, face.source_image.name))
        face.source_image = ""
        face.save(update_fields=["source_image", "updated_at"])
    return deleted
