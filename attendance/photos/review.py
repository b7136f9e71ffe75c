"""The teacher's review of the faces of a session's photos: who an unknown face is, that a face is
nobody of the class, and the crops that let a teacher decide at a glance.

Writes here are services like those of `attendance.register.services` (the page and the API call them);
`face_crop` is the one read, kept here because it shares the photo handling.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import StudentProfile, User
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.register import lateness
from attendance.register.capture_time import CaptureTime
from attendance.register.services import Source, Status, record_correct, require_open
from recognition.errors import RecognitionError
from recognition.images import decode_image, image_to_jpeg
from recognition.models import FaceEmbedding
from recognition.picture_hash import crop_region
from recognition.results import FaceBox
from recognition.services import face_enrol
from school.errors import DomainError, ErrorKind

logger = logging.getLogger(__name__)

CROP_PIXELS = 160  # a crop's longest side: sharp on a phone at 2x, light on a 30-face page
CROP_CACHE_SECONDS = 600  # made on the fly; kept briefly so a 30-face page decodes its photo once
REVIEWABLE = (DetectedFace.Match.UNKNOWN, DetectedFace.Match.UNCERTAIN, DetectedFace.Match.CONFIDENT)


# --- assigning and dismissing -----------------------------------------------------------------


@dataclass
class AssignResult:
    record: AttendanceRecord
    enrolled: FaceEmbedding | None = None
    # Why "also enrol this face" did not happen (the assignment stands regardless).
    enrol_error: str = ""
    enrol_error_code: str = ""


def face_assign(*, face: DetectedFace, student: StudentProfile, by: User | None, add_embedding: bool = False,
                note: str = "") -> AssignResult:
    """A teacher says who a face is: the student becomes present, or late when the photo was taken
    after the period's start and grace (audited). Always succeeds for a student of the course while
    the session is open.

    With `add_embedding`, the face is then also enrolled for that student, after the assignment is
    committed and outside its transaction (recognition never runs inside one): a crop too small or
    blurred for enrolment, or a student without consent, is reported in `enrol_error` and does not
    undo the assignment. Without it, the face may be learned (`attendance.photos.learning`)."""
    # Enrolling the face makes it a full enrolled face: it is then not also learned (a copy of it).
    record = _assign(face=face, student=student, by=by, note=note, vouches=not add_embedding)
    result = AssignResult(record=record)
    if add_embedding:
        try:
            result.enrolled = face_enrol_from_photo(face=face, student=student, by=by)
        except RecognitionError as exc:
            result.enrol_error, result.enrol_error_code = exc.message, exc.error_code
        except DomainError as exc:
            result.enrol_error, result.enrol_error_code = exc.message, exc.error_code
        if result.enrol_error:
            logger.info("face %s assigned to student %s; not enrolled: %s", face.pk, student.pk,
                        result.enrol_error_code)
    return result


@transaction.atomic
def _assign(*, face: DetectedFace, student: StudentProfile, by: User | None, note: str,
            vouches: bool) -> AttendanceRecord:
    session = AttendanceSession.objects.select_for_update().get(pk=face.photo.session_id)
    require_open(session)
    face = DetectedFace.objects.select_for_update().get(pk=face.pk)
    if face.match == DetectedFace.Match.TOO_SMALL:
        # Nobody can tell who so few pixels are, the teacher included: the register is the place.
        raise DomainError("This face is too small to identify; correct the student's record in the register, "
                          "or take the photo closer.", error_code="FACE_TOO_SMALL_TO_IDENTIFY",
                          kind=ErrorKind.CONFLICT)
    record = AttendanceRecord.objects.filter(session=session, student=student).first()
    if record is None:
        raise DomainError("This student is not enrolled in the session's course.", error_code="NOT_ENROLLED")
    previous_student = face.student_id
    # A student is on a photo at most once (a database constraint): their other face on this photo,
    # if any, becomes unknown before this one is theirs.
    DetectedFace.objects.filter(photo_id=face.photo_id, student=student).exclude(pk=face.pk).update(
        student=None, match=DetectedFace.Match.UNKNOWN, reason="")
    face.student = student
    face.match = DetectedFace.Match.ASSIGNED
    face.reviewed_by, face.reviewed_at, face.review_note = by, timezone.now(), note[:200]
    face.save(update_fields=["student", "match", "reviewed_by", "reviewed_at", "review_note"])
    if previous_student and previous_student != student.pk:
        _forget_face_evidence(session=session, face=face, student_id=previous_student, by=by,
                              note=f"Face {face.face_index + 1} of photo #{face.photo_id} is someone else")
    record.face = face
    photo = face.photo
    if photo.taken_at is not None:  # the photo's time says whether the student came late (SPEC §3)
        lateness.note_seen(record, CaptureTime(at=photo.taken_at, source=photo.taken_at_source))
    record.save(update_fields=["face", "seen_at", "seen_at_source"])
    return record_correct(record=record, status=lateness.confirmed_status(record), by=by, vouches=vouches,
                          note=note or f"Face {face.face_index + 1} of photo #{face.photo_id} assigned")


@transaction.atomic
def face_dismiss(*, face: DetectedFace, by: User | None, note: str = "") -> DetectedFace:
    """"Not a student": a visitor, a poster, a reflection. The face leaves the review (audited: who,
    when, note). A student whose pending or present mark came from this face loses it and is
    "not seen yet" again (audited on the record); a teacher's own decision stays."""
    session = AttendanceSession.objects.select_for_update().get(pk=face.photo.session_id)
    require_open(session)
    face = DetectedFace.objects.select_for_update().get(pk=face.pk)
    if face.match == DetectedFace.Match.DISMISSED:
        return face
    if face.student_id:
        _forget_face_evidence(session=session, face=face, student_id=face.student_id, by=by,
                              note=f"Face {face.face_index + 1} of photo #{face.photo_id} dismissed: not a student")
    face.match = DetectedFace.Match.DISMISSED
    face.student = None
    face.reviewed_by, face.reviewed_at, face.review_note = by, timezone.now(), (note.strip() or "Not a student")[:200]
    face.save(update_fields=["match", "student", "reviewed_by", "reviewed_at", "review_note"])
    logger.info("face %s of photo %s dismissed by user %s", face.pk, face.photo_id, getattr(by, "pk", None))
    return face


def _forget_face_evidence(*, session: AttendanceSession, face: DetectedFace, student_id: int, by: User | None,
                          note: str) -> None:
    """The student's record loses a mark that this face was the evidence of (machine marks only)."""
    record = AttendanceRecord.objects.select_for_update().filter(session=session, student_id=student_id).first()
    if record is None or record.face_id != face.pk or record.source != Source.FACE:
        return
    AttendanceCorrection.objects.create(record=record, old_status=record.status, new_status=Status.UNMARKED,
                                        note=note, changed_by=by)
    record.status, record.source, record.distance, record.face, record.reason = (
        Status.UNMARKED, Source.NONE, None, None, "")
    record.seen_at, record.seen_at_source = None, ""
    record.save(update_fields=["status", "source", "distance", "face", "reason", "seen_at", "seen_at_source",
                               "updated_at"])


def face_enrol_from_photo(*, face: DetectedFace, student: StudentProfile, by: User | None) -> FaceEmbedding:
    """Enrols a classroom face: the region around its box is cut from the kept photo and encoded
    (refused like any enrolment when the face is too small, blurred or the consent is missing)."""
    return face_enrol(student=student, image=face_region_jpeg(face=face), by=by)


def face_region_jpeg(*, face: DetectedFace) -> bytes:
    """The region around a classroom face's box (half its size on each side) cut from the kept photo at
    full resolution, as a JPEG to encode (enrolment, learning). NO_SOURCE_IMAGE once the photo is purged."""
    photo = face.photo
    if not photo.image:
        raise DomainError("The classroom photo is no longer kept.", error_code="NO_SOURCE_IMAGE",
                          kind=ErrorKind.CONFLICT)
    with photo.image.open("rb") as handle:
        pixels = decode_image(handle.read()).pixels
    margin_x, margin_y = (face.box_right - face.box_left) // 2, (face.box_bottom - face.box_top) // 2
    crop = pixels[max(0, face.box_top - margin_y):face.box_bottom + margin_y,
                  max(0, face.box_left - margin_x):face.box_right + margin_x]
    return image_to_jpeg(crop, quality=95)


# --- crops ------------------------------------------------------------------------------------


def face_crop(*, face: DetectedFace) -> bytes | None:
    """A JPEG of the face and a little around it, made from the kept photo, or None once the photo
    is purged. Every face of a photo is cut in one decode and cached briefly under the photo's
    file name, so the crops go with the file."""
    photo = face.photo
    if not photo.image:
        return None
    key = f"face-crops:{photo.pk}:{photo.image.name}"
    crops = cache.get(key)
    if crops is None:
        crops = _cut_all(photo)
        cache.set(key, crops, CROP_CACHE_SECONDS)
    return crops.get(face.pk)


def _cut_all(photo: SessionPhoto) -> dict[int, bytes]:
    with photo.image.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return {face.pk: crop_jpeg(image, face.box) for face in photo.faces.all()}


def crop_jpeg(image: Image.Image, box: dict[str, int]) -> bytes:
    """The face in `box` and a third of its size around it (`recognition.picture_hash.crop_region`, the
    region whose hash is kept), as a JPEG of at most CROP_PIXELS a side (shrunk, never enlarged: a 30 px
    face stays 30 px)."""
    region = crop_region(FaceBox(**box), image.size)
    crop = image.crop(region)
    crop.thumbnail((CROP_PIXELS, CROP_PIXELS), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    crop.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def enrolment_crop(*, face: FaceEmbedding) -> bytes | None:
    """The enrolled face cut from its kept enrolment photo (None in embeddings-only mode), to put
    next to a classroom face that may be the same student."""
    if not face.source_image:
        return None
    with face.source_image.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return crop_jpeg(image, {"top": face.box_top, "right": face.box_right, "bottom": face.box_bottom,
                             "left": face.box_left})


def crops_forget(*, photo: SessionPhoto) -> None:
    """Drops a photo's cached crops (its file is being deleted)."""
    if photo.image:
        cache.delete(f"face-crops:{photo.pk}:{photo.image.name}")
