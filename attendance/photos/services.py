"""Classroom photos: recognition of a photo, then the writes it causes (its faces, the session's
records), for the request path, the worker (`attendance.photos.processing`) and live mode
(`attendance.live.services`).

Recognition runs before any write: when it fails (the service is down, the photo is unusable)
nothing of the session has changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import StudentProfile, User
from attendance.faces.analysis import PhotoAnalysis, detected_faces, photo_analyse
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.register import lateness
from attendance.register.capture_time import CaptureTime, photo_capture_time
from attendance.register.marking import MARKED_FIELDS, is_teachers, record_mark_seen
from attendance.register.periods import session_for_now, slot_now
from attendance.register.services import records_ensure, require_open
from classes.models import Course
from recognition.images import DecodedImage, decode_image, image_to_jpeg
from recognition.services import content_hash
from school import metrics

logger = logging.getLogger(__name__)

Status = AttendanceRecord.Status
Source = AttendanceRecord.Source


# --- classroom photos -------------------------------------------------------------------------


@dataclass
class PhotoResult:
    photo: SessionPhoto
    faces: list[DetectedFace]
    duplicate: bool
    processing_time_ms: float
    changed_records: list[AttendanceRecord] = field(default_factory=list)

    @property
    def queued(self) -> bool:
        """Stored for a worker: its faces and records come later (see the photo's state)."""
        return self.photo.state != SessionPhoto.State.DONE


def session_photo_process(*, session: AttendanceSession, image: bytes, by: User | None,
                          analysis: PhotoAnalysis | None = None) -> PhotoResult:
    """Finds and matches the faces of a classroom photo and updates the session's records, in the
    request (the path without a queue; `attendance.photos.processing` stores first and lets a worker do it).

    Re-uploading a photo already processed for the session changes nothing. A student keeps the
    best (smallest) distance across photos; a teacher's manual status is never overwritten.
    Uncertain matches, and confident matches to a student who has a look-alike in the course,
    become `pending`. Raises RecognitionError subclasses before anything is written."""
    require_open(session)
    existing = photo_duplicate(session, content_hash(image))
    if existing is not None:
        return existing
    if analysis is None:
        analysis = photo_analyse(course=session.course, image=decode_image(image))
    # Encoded after recognition, not in a thread beside it: there it took the GIL whenever a query
    # of the request let go of it, delaying the queries by ~40 ms, more than its own 9-36 ms
    # (3-12 MP; benchmarks/attendance.py).
    stored = stored_copy(analysis.decoded)
    taken = photo_capture_time(image, session_date=session.date)  # EXIF of the upload, not the stored copy
    photo = SessionPhoto(session=session, content_hash=analysis.digest, uploaded_by=by, taken_at=taken.at,
                         taken_at_source=taken.source)
    return photo_store(photo=photo, file_field="image", name="photo.jpg", content=stored,
                       then=lambda photo, session: photo_apply(photo=photo, session=session, analysis=analysis))


def photo_store(*, photo: SessionPhoto, file_field: str, name: str, content: bytes,
                then: Callable[[SessionPhoto, AttendanceSession], PhotoResult]) -> PhotoResult:
    """Stores a new photo of an open session: the file, then the row under the session's lock (finalising
    takes the same lock: no photo slips in after it), then `then(photo, session)` in the same
    transaction. The same photo stored concurrently is the existing one (`duplicate`); nothing
    half-written stays: a rolled-back photo leaves no file in storage. The request path (the photo
    processed at once) and the queued path (the upload kept for a worker) both store through here."""
    file = getattr(photo, file_field)
    file.save(name, ContentFile(content), save=False)
    try:
        with transaction.atomic():
            session = AttendanceSession.objects.select_for_update().get(pk=photo.session_id)
            require_open(session)
            photo.session = session
            try:
                with transaction.atomic():
                    photo.save()
            except IntegrityError:  # the same photo stored concurrently
                _file_delete(file)
                return cast(PhotoResult, photo_duplicate(session, photo.content_hash))
            return then(photo, session)
    except BaseException:
        _file_delete(file)
        raise


def _file_delete(file: Any) -> None:
    if file.name:
        file.storage.delete(file.name)
        file.name = ""


def photo_apply(*, photo: SessionPhoto, session: AttendanceSession, analysis: PhotoAnalysis) -> PhotoResult:
    """Writes what recognition found on a saved photo: its faces, the session's records, state `done`.

    The one step both paths share (the request's and the worker's); the caller holds the session's
    row lock inside a transaction. Lateness counts from the photo's `taken_at` (its EXIF capture time,
    else its upload time), recorded when it was stored."""
    detection = analysis.detection
    photo.width, photo.height = detection.image_size
    photo.face_count = len(detection.faces)
    faces = DetectedFace.objects.bulk_create(detected_faces(photo, analysis))
    _attach_students(faces)
    records_ensure(session)
    seen = CaptureTime(at=photo.taken_at, source=photo.taken_at_source) if photo.taken_at else None
    changed = _records_apply(session, faces, analysis.confident, analysis.uncertain, seen=seen)
    photo.state, photo.error_code, photo.error = SessionPhoto.State.DONE, "", ""
    photo.processed_at = timezone.now()
    photo.processing_time_ms = round((time.perf_counter() - analysis.started) * 1000)
    photo.save(update_fields=["width", "height", "face_count", "state", "error_code", "error", "processed_at",
                              "processing_time_ms", "updated_at"])
    metrics.photo_processed(faces=len(faces), upload_to_applied_seconds=(
        (photo.processed_at - photo.uploaded_at).total_seconds() if photo.uploaded_at else None))
    logger.info("session %s photo %s: %d faces, %d records changed, %d ms", session.pk, photo.pk, len(faces),
                len(changed), photo.processing_time_ms)
    return PhotoResult(photo=photo, faces=faces, duplicate=False, processing_time_ms=photo.processing_time_ms,
                       changed_records=changed)


def _attach_students(faces: list[DetectedFace]) -> None:
    """The matched students of new faces in one query (callers show their names)."""
    students = StudentProfile.objects.in_bulk({face.student_id for face in faces if face.student_id})
    for face in faces:
        if face.student_id:
            face.student = students[face.student_id]


def photo_duplicate(session: AttendanceSession, digest: str) -> PhotoResult | None:
    existing = SessionPhoto.objects.filter(session=session, content_hash=digest).first()
    if existing is None:
        return None
    return PhotoResult(photo=existing, faces=list(existing.faces.select_related("student")), duplicate=True,
                       processing_time_ms=0.0)


def stored_copy(decoded: DecodedImage) -> bytes:
    """What is kept of a classroom photo: a JPEG without EXIF (no GPS, no device data), made from
    the pixels already decoded for recognition."""
    return image_to_jpeg(decoded.pixels, quality=88)


def _records_apply(session: AttendanceSession, faces: list[DetectedFace], confident: float,
                   uncertain: float, *, seen: CaptureTime | None = None) -> list[AttendanceRecord]:
    records = {r.student_id: r for r in session.records.select_for_update()}
    deadline = lateness.late_after(session)
    changed = []
    for face in faces:
        record = records.get(face.student_id) if face.student_id else None
        if record is None or is_teachers(record):
            continue  # a teacher's decision stands
        earlier = lateness.note_seen(record, seen)  # lateness counts from the first sighting
        if record.source == Source.SELF:
            # The camera seeing the student corroborates a self check-in (SPEC §9): a confident face
            # marks the record from the room, whatever the selfie's distance was; an unsure one leaves
            # the check-in as it is.
            if face.match == DetectedFace.Match.CONFIDENT:
                record_mark_seen(record=record, sure=True, source=Source.FACE, deadline=deadline,
                                 thresholds=(confident, uncertain), distance=face.distance, face=face,
                                 reason="Seen by the classroom camera (confirms the self check-in)")
                changed.append(record)
            elif earlier:
                changed.append(record)
            continue
        if record.distance is not None and face.distance is not None and record.distance <= face.distance:
            # An earlier photo was closer: the best distance wins, but an earlier sighting still counts.
            if earlier:
                if record.status in (Status.PRESENT, Status.LATE):
                    record.status = lateness.arrival_status(record, deadline)
                changed.append(record)
            continue
        record_mark_seen(record=record, sure=face.match == DetectedFace.Match.CONFIDENT, source=Source.FACE,
                         deadline=deadline, thresholds=(confident, uncertain), distance=face.distance, face=face,
                         reason=face.reason)
        changed.append(record)
    AttendanceRecord.objects.bulk_update(changed, MARKED_FIELDS)
    return changed


# --- one-shot ---------------------------------------------------------------------------------


def attendance_mark(*, course: Course, image: bytes, by: User | None) -> tuple[AttendanceSession, PhotoResult]:
    """Opens (or reuses) the session of the running timetable slot, else today's session of the course,
    and processes the photo (SPEC §3, §4 one-shot)."""
    slot = slot_now(course=course)
    session = (AttendanceSession.objects.filter(course=course, date=timezone.localdate(), slot=slot).first()
               if slot is not None else
               AttendanceSession.objects.filter(course=course, date=timezone.localdate(), label="").first())
    if session is not None:
        return session, session_photo_process(session=session, image=image, by=by)
    # Recognise first: a failed photo must not leave an empty session behind.
    analysis = photo_analyse(course=course, image=image)
    session = session_for_now(course=course, by=by)
    return session, session_photo_process(session=session, image=image, by=by, analysis=analysis)
