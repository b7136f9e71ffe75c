"""Live mode: the classroom webcam takes the register while the lesson starts.

The browser (or a classroom device) sends a small frame every second. Each frame is detected and
matched against the course like a photo (`photo_analyse`), and what it shows is added to the
per-student evidence (`LiveEvidence`). A face seen in one frame changes nothing: a student becomes
present (or late, by the period rule) once matched confidently in LIVE_MIN_FRAMES frames, and
pending when only uncertain matches accumulate. A frame counts for a student only when their face
moved since the last frame that counted (`motion`): a still picture, sent again or re-encoded, is one
piece of evidence however many times it comes. Faces that stay where they were in the previous
frame keep their match without being encoded again (`tracking`). Frames are not kept, except the one that
becomes the evidence of a mark: it is stored as a `SessionPhoto` with its `DetectedFace`s, so the review,
the crops and the evidence work as for photos. The teacher's manual decisions always win.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.consent import Erased
from accounts.models import StudentProfile, User
from attendance.faces.analysis import PhotoAnalysis, detected_faces
from attendance.live import motion, tracking
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, LiveEvidence, LiveRun, SessionPhoto
from attendance.register import lateness
from attendance.register.capture_time import CaptureTime
from attendance.register.marking import is_teachers, record_mark_seen
from attendance.register.services import records_ensure, require_open
from recognition.images import decode_image, image_to_jpeg
from recognition.results import FaceMatch, MatchStatus
from school.errors import DomainError, ErrorKind

logger = logging.getLogger(__name__)

Status = AttendanceRecord.Status
Source = AttendanceRecord.Source
LIVE = "live"  # seen_at_source of a mark made by live mode
# Records live mode may still change: not seen yet, or a machine's pending match.
_OPEN_STATUSES = (Status.UNMARKED, Status.PENDING)
_DONE_STATUSES = (Status.PRESENT, Status.LATE, Status.EXCUSED)


# --- runs -------------------------------------------------------------------------------------


def live_run_current(*, session: AttendanceSession) -> LiveRun | None:
    """The session's running live run, if any (a run past its time limit is not running)."""
    run = session.live_runs.filter(ended_at__isnull=True).first()
    if run is not None and not session.is_open:
        return _run_end(run, LiveRun.Ended.FINALIZED)
    if run is not None and run.ends_at <= timezone.now():
        return _run_end(run, LiveRun.Ended.TIME_LIMIT)
    return run


def live_run_latest(*, session: AttendanceSession) -> LiveRun | None:
    """The running run, else the last one (with why it ended), else None."""
    return live_run_current(session=session) or session.live_runs.first()


def live_run_start(*, session: AttendanceSession, by: User | None) -> LiveRun:
    """Starts live mode on an open session (or returns the run already going). It stops by itself
    after LIVE_MAX_SECONDS."""
    require_open(session)
    with transaction.atomic():
        AttendanceSession.objects.select_for_update().get(pk=session.pk)
        run = live_run_current(session=session)
        if run is not None and run.is_running:
            return run
        return LiveRun.objects.create(
            session=session, started_by=by,
            ends_at=timezone.now() + datetime.timedelta(seconds=settings.LIVE_MAX_SECONDS))


def live_run_stop(*, session: AttendanceSession, by: User | None) -> LiveRun | None:
    """Stops the running live run (the teacher pressed stop); None when none was running."""
    run = live_run_current(session=session)
    if run is None or not run.is_running:
        return None
    return _run_end(run, LiveRun.Ended.STOPPED)


def _run_end(run: LiveRun, reason: str) -> LiveRun:
    LiveRun.objects.filter(pk=run.pk, ended_at__isnull=True).update(ended_at=timezone.now(), ended_reason=reason,
                                                                    tracks=[])
    run.refresh_from_db()
    return run


# --- frames -----------------------------------------------------------------------------------


@dataclass
class FrameFace:
    box: dict[str, int]
    student_id: int | None
    name: str
    match: str  # confident, uncertain, unknown
    distance: float | None
    status: str  # the student's record status after this frame ("" for an unknown face)


@dataclass
class FrameResult:
    run: LiveRun
    width: int
    height: int
    faces: list[FrameFace]
    newly_marked: list[AttendanceRecord]
    present_count: int
    enrolled_count: int
    remaining: int
    stopped: str  # "" while running, else LiveRun.Ended
    processing_time_ms: int
    photo: SessionPhoto | None = None
    repeated: bool = False
    seconds_left: int = 0
    marked_names: list[str] = field(default_factory=list)
    encoded_faces: int = 0  # faces encoded for this frame (the others were followed from the previous one)


def live_frame_process(*, session: AttendanceSession, image: bytes, by: User | None) -> FrameResult:
    """Processes one live frame: detects and matches it, adds it to the evidence, and marks the
    students the evidence now suffices for (see the module's docstring).

    Refused with LIVE_NOT_RUNNING (409) without a running run, LIVE_FRAME_IN_FLIGHT (429,
    Retry-After 1) while another frame of the session is being processed, IMAGE_TOO_LARGE beyond
    LIVE_MAX_FRAME_BYTES / LIVE_MAX_FRAME_PIXELS. Recognition runs before anything is written."""
    require_open(session)
    run = live_run_current(session=session)
    if run is None or not run.is_running:
        raise DomainError("Live mode is not running on this session: start it first.",
                          error_code="LIVE_NOT_RUNNING", kind=ErrorKind.CONFLICT,
                          details={"ended_reason": run.ended_reason if run else None})
    busy_until = _frame_claim(run)
    try:
        decoded = decode_image(image, max_bytes=int(settings.LIVE_MAX_FRAME_BYTES),
                               max_pixels=int(settings.LIVE_MAX_FRAME_PIXELS))
        tracked = tracking.frame_analyse(course=session.course, decoded=decoded, previous=tracking.run_tracks(run))
        result = _frame_apply(session=session, run=run, analysis=tracked.analysis, by=by)
        result.encoded_faces = tracked.encoded
        if not result.stopped:
            tracking.run_tracks_save(run, tracked.tracks)
        return result
    finally:
        _frame_release(run, busy_until)


def _frame_claim(run: LiveRun) -> datetime.datetime:
    """Claims the run for one frame, or refuses with LIVE_FRAME_IN_FLIGHT: one frame per session at a
    time, so a webcam that sends faster than the server answers is told to wait and its frames never
    fill the workers. The claim is a conditional UPDATE of the run's row, committed at once: it holds
    across threads and gunicorn workers without Redis (a process's local cache would not), on SQLite
    (one writer at a time) and PostgreSQL (the row lock, the condition checked again after it). It
    expires after LIVE_FRAME_LOCK_SECONDS, so a frame whose worker died does not block the run."""
    now = timezone.now()
    until = now + datetime.timedelta(seconds=settings.LIVE_FRAME_LOCK_SECONDS)
    claimed = LiveRun.objects.filter(pk=run.pk).filter(
        Q(frame_busy_until__isnull=True) | Q(frame_busy_until__lte=now)).update(frame_busy_until=until)
    if not claimed:
        raise DomainError("A frame of this session is still being processed; send the next one after it.",
                          error_code="LIVE_FRAME_IN_FLIGHT", kind=ErrorKind.BUSY,
                          retry_after=1)
    return until


def _frame_release(run: LiveRun, until: datetime.datetime) -> None:
    # Only our own claim: one that expired and was taken by the next frame stays that frame's.
    LiveRun.objects.filter(pk=run.pk, frame_busy_until=until).update(frame_busy_until=None)


def _frame_apply(*, session: AttendanceSession, run: LiveRun, analysis: PhotoAnalysis,
                 by: User | None) -> FrameResult:
    now = timezone.now()
    matched = {m.student_id: m for m in analysis.matches if m.student_id is not None}
    stored: list[str] = []
    try:
        records, newly, photo, present, remaining, counted = _evidence_add(
            session=session, run=run, analysis=analysis, by=by, matched=matched, now=now, stored=stored)
    except BaseException:
        for name in stored:  # nothing half-written: a rolled-back mark leaves no frame in storage
            default_storage.delete(name)
        raise
    stopped = ""
    if not records or remaining == 0:
        run = _run_end(run, LiveRun.Ended.EVERYONE_PRESENT)
        stopped = run.ended_reason
    elif run.ends_at <= timezone.now():
        run = _run_end(run, LiveRun.Ended.TIME_LIMIT)
        stopped = run.ended_reason
    names = _names({*matched, *(r.student_id for r in newly)})
    result = FrameResult(
        run=run, width=analysis.detection.image_size[0], height=analysis.detection.image_size[1],
        faces=_frame_faces(analysis, records, names), newly_marked=newly, present_count=present,
        enrolled_count=len(records), remaining=remaining, stopped=stopped, photo=photo,
        repeated=bool(matched) and not counted,
        processing_time_ms=round((time.perf_counter() - analysis.started) * 1000),
        seconds_left=max(0, int((run.ends_at - timezone.now()).total_seconds())) if not stopped else 0,
        marked_names=[names.get(r.student_id, "") for r in newly])
    logger.info("session %s live frame: %d faces, %d marked, %d ms", session.pk, len(result.faces), len(newly),
                result.processing_time_ms)
    return result


@transaction.atomic
def _evidence_add(*, session: AttendanceSession, run: LiveRun, analysis: PhotoAnalysis, by: User | None,
                  matched: dict, now: datetime.datetime, stored: list[str]
                  ) -> tuple[dict[int, AttendanceRecord], list[AttendanceRecord], SessionPhoto | None, int, int, int]:
    """Adds a frame's matches to the evidence and marks who it now suffices for (one transaction).
    The last value is how many of its faces counted (moved since their last counted sighting)."""
    session = AttendanceSession.objects.select_for_update().select_related("course").get(pk=session.pk)
    require_open(session)
    records_ensure(session)
    records = {r.student_id: r for r in session.records.select_for_update()}
    evidence = {e.student_id: e for e in LiveEvidence.objects.select_for_update().filter(
        session=session, student_id__in=list(matched))}
    counted = 0
    for student_id, match in matched.items():
        item = evidence.get(student_id)
        if item is None:
            item = evidence[student_id] = LiveEvidence(session=session, student_id=student_id,
                                                       first_seen_at=now, last_seen_at=now)
        if not _sighting_moved(item, analysis, match):
            item.last_seen_at = now  # seen again, but the same picture: no new evidence
            item.save()
            continue
        counted += 1
        if _is_confident(match.status, student_id, analysis):
            item.confident_frames += 1
        else:
            item.uncertain_frames += 1
        item.last_seen_at = now
        if item.best_distance is None or match.distance < item.best_distance:
            item.best_distance = match.distance
        item.save()
    decisions = {sid: _decide(evidence[sid], records.get(sid)) for sid in evidence}
    decisions = {sid: status for sid, status in decisions.items() if status}
    photo: SessionPhoto | None = None
    faces: list[DetectedFace] = []
    if decisions:
        photo, faces = _frame_store(session=session, analysis=analysis, by=by, stored=stored)
    by_student = {face.student_id: face for face in faces if face.student_id}
    deadline = lateness.late_after(session)
    newly: list[AttendanceRecord] = []
    for student_id, decision in decisions.items():
        record, item, face = records[student_id], evidence[student_id], by_student.get(student_id)
        lateness.note_seen(record, CaptureTime(at=item.first_seen_at, source=LIVE))
        frames = item.confident_frames + item.uncertain_frames
        record_mark_seen(record=record, sure=decision == Status.PRESENT, source=Source.FACE, deadline=deadline,
                         thresholds=(analysis.confident, analysis.uncertain),
                         distance=face.distance if face else item.best_distance, face=face,
                         reason=((face.reason if face and face.reason else "")
                                 or f"Live: matched in {frames} frames ({item.confident_frames} confident)"))
        record.save()
        item.face = face
        item.save(update_fields=["face"])
        newly.append(record)
    LiveRun.objects.filter(pk=run.pk).update(frames=run.frames + 1, last_frame_at=now)
    run.frames += 1
    present = sum(1 for r in records.values() if r.status in (Status.PRESENT, Status.LATE))
    remaining = sum(1 for r in records.values() if r.status in _OPEN_STATUSES)
    return records, newly, photo, present, remaining, counted


def _sighting_moved(item: LiveEvidence, analysis: PhotoAnalysis, match: FaceMatch) -> bool:
    """Whether this sighting is new evidence: the first one, or the face moved since the last one that
    counted (which it then becomes)."""
    pixels = analysis.decoded.pixels
    previous = item.motion_region
    if previous is not None and item.motion_signature is not None and not motion.has_moved(
            pixels, (previous[0], previous[1], previous[2], previous[3]), bytes(item.motion_signature)):
        return False
    region = motion.face_region(analysis.detection.faces[match.face_index].box, analysis.decoded.size)
    item.motion_region = list(region)
    item.motion_signature = motion.region_signature(pixels, region)
    return True


def _is_confident(status: str, student_id: Hashable, analysis: PhotoAnalysis) -> bool:
    # A student with a look-alike in the course is never confident on the machine's word alone.
    return status == MatchStatus.CONFIDENT and student_id not in analysis.look_alikes


def _decide(item: LiveEvidence, record: AttendanceRecord | None) -> str:
    """The status the evidence now calls for, or "" for no change."""
    if record is None or is_teachers(record) or record.status not in _OPEN_STATUSES:
        return ""  # a teacher's decision, or already marked: nothing to do
    needed = settings.LIVE_MIN_FRAMES
    if item.confident_frames >= needed:
        return Status.PRESENT
    if record.status == Status.UNMARKED and item.confident_frames + item.uncertain_frames >= needed:
        return Status.PENDING
    return ""


def _frame_store(*, session: AttendanceSession, analysis: PhotoAnalysis, by: User | None,
                 stored: list[str]) -> tuple[SessionPhoto, list[DetectedFace]]:
    """Keeps the frame that is the evidence of a mark, as a photo of the session with its faces.
    The same frame already kept (a frozen camera) is reused."""
    existing = SessionPhoto.objects.filter(session=session, content_hash=analysis.digest).first()
    if existing is not None:
        return existing, list(existing.faces.all())
    seen = CaptureTime(at=timezone.now(), source=LIVE)
    # Only the recognised faces are kept: the strangers and unknown faces of a webcam stay in view
    # frame after frame, and would fill the review with the same crops (a photo collects those).
    faces = [face for face in detected_faces(SessionPhoto(), analysis) if face.student_id]
    photo = SessionPhoto(session=session, content_hash=analysis.digest, width=analysis.detection.image_size[0],
                         height=analysis.detection.image_size[1], face_count=len(faces),
                         processing_time_ms=round((time.perf_counter() - analysis.started) * 1000),
                         uploaded_by=by, taken_at=seen.at, taken_at_source=LIVE, processed_at=seen.at)
    photo.image.save("frame.jpg", ContentFile(image_to_jpeg(analysis.decoded.pixels, quality=88)), save=False)
    stored.append(photo.image.name or "")
    photo.save()
    for face in faces:
        face.photo = photo
    return photo, DetectedFace.objects.bulk_create(faces)


def _names(ids: set) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {s.pk: s.full_name for s in StudentProfile.objects.filter(pk__in=ids).only("first_name", "last_name")}


def _frame_faces(analysis: PhotoAnalysis, records: dict[int, AttendanceRecord],
                 names: dict[int, str]) -> list[FrameFace]:
    matches: list[FaceMatch | None] = list(analysis.matches) or [None] * len(analysis.detection.faces)
    faces = []
    for face, match in zip(analysis.detection.faces, matches, strict=True):
        student_id = match.student_id if match is not None else None
        kind = MatchStatus.UNKNOWN
        if match is not None and match.status == MatchStatus.TOO_SMALL:
            kind = MatchStatus.TOO_SMALL
        elif match is not None and student_id is not None:
            kind = MatchStatus.CONFIDENT if _is_confident(match.status, student_id, analysis) else MatchStatus.UNCERTAIN
        record = records.get(student_id) if student_id is not None else None
        faces.append(FrameFace(box=face.box.as_dict(), student_id=student_id,
                               name=names.get(student_id, "") if student_id is not None else "",
                               match=kind, distance=None if match is None else match.distance,
                               status=record.status if record else ""))
    return faces


def live_face_signatures_erase(student: StudentProfile) -> Erased:
    """Forgets the small grey copies of a student's face that live mode keeps to tell a moving face from a
    still picture (registered with `accounts.consent.biometric_holder_register`: withdrawal reaches them).
    The counts of frames stay: they are the register's evidence, not the face."""
    erased = (LiveEvidence.objects.filter(student=student)
              .filter(Q(motion_signature__isnull=False) | Q(motion_region__isnull=False))
              .update(motion_signature=None, motion_region=None))
    tracking.tracks_forget(student.pk)  # the running runs' grey copies of the last frame's faces
    return Erased(embeddings=0, photos=erased)
