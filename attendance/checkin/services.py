"""Self check-in: the teacher opens a window, the page shows a QR code that changes every few seconds,
a student scans it, logs in and sends a selfie that is compared 1:1 with their own enrolled faces.

The QR code carries a sealed (encrypted and authenticated, school/sealed.py), expiring token bound to
the session and the window, with its own key; the server checks it is genuine, its age, that the window
is open and that the session is open. A good selfie makes the record `present` (or `late` by the period
rule) with source `self`; without consent or enrolled faces, with an uncertain likeness, from a device another student
already checked in from, or outside the school's geofence, the record becomes `pending` with the reason.
A picture the school already has (`replay`: an earlier check-in's, an enrolment photo, a classroom face
crop) and another student's face are refused. A teacher's own decision is never overwritten. Every attempt
is logged (`CheckinAttempt`, with the perceptual hashes of its pictures).
"""

from __future__ import annotations

import datetime
import functools
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image

from accounts.models import StudentProfile, User
from attendance.checkin import presence, replay
from attendance.checkin.presence import Position, geofence
from attendance.faces.analysis import thresholds_for
from attendance.models import AttendanceRecord, AttendanceSession, CheckinAttempt, CheckinWindow
from attendance.register import lateness
from attendance.register.capture_time import CaptureTime
from attendance.register.marking import is_teachers, record_mark_seen
from attendance.register.services import records_ensure, require_open
from recognition.backends import get_backend
from recognition.errors import RecognitionError, RecognitionUnavailable
from recognition.images import decode_image, image_to_jpeg
from recognition.matching import nearest_distance
from recognition.models import FaceEmbedding
from recognition.picture_hash import picture_hash
from school.errors import DomainError, ErrorKind
from school.sealed import TokenExpired, TokenInvalid, seal, unseal

logger = logging.getLogger(__name__)
MAX_FRAMES = presence.MAX_FRAMES

TOKEN_SALT = "attendance.checkin.services.qr"  # noqa: S105 - a signing namespace, not a secret
DEVICE_COOKIE = "sa_checkin_device"
SELFIE_PIXELS = 1600  # the longest side of the selfie that is encoded and kept
# A selfie held at arm's length is a fine 1:1 probe below the enrolment rule's 5% of the picture.
SELFIE_MIN_FACE_AREA = 0.02
Status = AttendanceRecord.Status
Source = AttendanceRecord.Source
Outcome = CheckinAttempt.Outcome
# HTTP statuses of the refusals (pages and API answer the same).
_Kind = ErrorKind
REFUSAL_KIND = {
    "CHECKIN_TOKEN_INVALID": _Kind.INVALID, "CHECKIN_TOKEN_EXPIRED": _Kind.GONE, "CHECKIN_CLOSED": _Kind.GONE,
    "SESSION_FINALIZED": _Kind.CONFLICT, "NOT_A_STUDENT": _Kind.FORBIDDEN, "NOT_ENROLLED": _Kind.FORBIDDEN,
    "ALREADY_CHECKED_IN": _Kind.CONFLICT, "TEACHER_DECIDED": _Kind.CONFLICT, "FACE_MISMATCH": _Kind.UNPROCESSABLE,
    "SCAN_EXPIRED": _Kind.GONE, "NO_FACE_FOUND": _Kind.UNPROCESSABLE, "MULTIPLE_FACES": _Kind.UNPROCESSABLE,
    "FACE_TOO_SMALL": _Kind.UNPROCESSABLE, "IMAGE_TOO_LARGE": _Kind.TOO_LARGE,
    "UNSUPPORTED_IMAGE_TYPE": _Kind.UNSUPPORTED, "INVALID_FRAMES": _Kind.INVALID,
    "SELFIE_REPLAYED": _Kind.UNPROCESSABLE, "FACE_OF_ANOTHER_STUDENT": _Kind.UNPROCESSABLE,
}


# --- windows ----------------------------------------------------------------------------------


def checkin_window_open(*, session: AttendanceSession) -> CheckinWindow | None:
    """The session's open check-in window, if any."""
    return session.checkin_windows.filter(closed_at__isnull=True, closes_at__gt=timezone.now()).first()


def checkin_attempts(*, session: AttendanceSession) -> QuerySet[CheckinAttempt]:
    return session.checkin_attempts.select_related("student", "user", "record").order_by("-created_at", "-id")


@transaction.atomic
def checkin_window_create(*, session: AttendanceSession, by: User | None, minutes: int | None = None) -> CheckinWindow:
    """Opens a check-in window for `minutes` (CHECKIN_WINDOW_MINUTES by default); a window already
    open on the session is closed first."""
    session = AttendanceSession.objects.select_for_update().get(pk=session.pk)
    require_open(session)
    length = int(minutes or settings.CHECKIN_WINDOW_MINUTES)
    if not 1 <= length <= 240:
        raise DomainError("A check-in window lasts 1 to 240 minutes.", error_code="INVALID_DURATION")
    now = timezone.now()
    session.checkin_windows.filter(closed_at__isnull=True).update(closed_at=now, closed_by=by)
    return CheckinWindow.objects.create(session=session, opened_by=by,
                                        closes_at=now + datetime.timedelta(minutes=length))


def checkin_window_close(*, session: AttendanceSession, by: User | None) -> int:
    """Closes the session's open windows now; the number closed."""
    return session.checkin_windows.filter(closed_at__isnull=True).update(closed_at=timezone.now(), closed_by=by)


# --- the QR token -----------------------------------------------------------------------------


def checkin_token_make(*, window: CheckinWindow) -> str:
    """A token for the QR code: sealed (encrypted, school/sealed.py: no readable ids in the URL or the
    logs), bound to the session and window, valid CHECKIN_TOKEN_SECONDS. Each call gives a new token
    (a random IV), so the code on the screen keeps changing."""
    return seal({"s": window.session_id, "w": window.pk}, purpose=TOKEN_SALT)


def checkin_token_verify(*, token: str) -> CheckinWindow:
    """The open window a scanned token is for. Refused (DomainError) for a tampered or foreign token
    (CHECKIN_TOKEN_INVALID), an old one (CHECKIN_TOKEN_EXPIRED), a closed window (CHECKIN_CLOSED) or a
    finalised session (SESSION_FINALIZED)."""
    try:
        payload = unseal(token, purpose=TOKEN_SALT,
                         max_age=datetime.timedelta(seconds=int(settings.CHECKIN_TOKEN_SECONDS)))
    except TokenExpired:
        raise _refusal("CHECKIN_TOKEN_EXPIRED", "This code has expired: scan the code on the screen again.") from None
    except TokenInvalid:
        raise _refusal("CHECKIN_TOKEN_INVALID", "This is not a valid check-in code.") from None
    if not isinstance(payload.get("w"), int) or not isinstance(payload.get("s"), int):
        raise _refusal("CHECKIN_TOKEN_INVALID", "This is not a valid check-in code.")
    window = CheckinWindow.objects.select_related("session__course").filter(pk=payload["w"]).first()
    if window is None or window.session_id != payload["s"]:
        raise _refusal("CHECKIN_TOKEN_INVALID", "This check-in code is not for this lesson.")
    window_check(window)
    return window


SCAN_SALT = "attendance.checkin.services.scan"


def checkin_scan_ticket(*, window: CheckinWindow, user: User) -> str:
    """What a verified scan gives a mobile app: a signed ticket for this window and user, valid
    CHECKIN_SCAN_SECONDS (time to take the selfie), so the 30-second QR token need not outlive it."""
    return signing.dumps({"w": window.pk, "u": user.pk}, salt=SCAN_SALT, compress=False)


def checkin_scan_ticket_verify(*, ticket: str, user: User) -> CheckinWindow:
    """The window of a scan ticket of `user`; refused like a token (CHECKIN_TOKEN_INVALID for another
    user's ticket, SCAN_EXPIRED when too old, CHECKIN_CLOSED, SESSION_FINALIZED)."""
    try:
        payload = signing.loads(ticket, salt=SCAN_SALT, max_age=int(settings.CHECKIN_SCAN_SECONDS))
    except signing.SignatureExpired:
        raise _refusal("SCAN_EXPIRED", "Too long since the scan: scan the code on the screen again.") from None
    except signing.BadSignature:
        raise _refusal("CHECKIN_TOKEN_INVALID", "This is not a valid check-in ticket.") from None
    if not isinstance(payload, dict) or payload.get("u") != user.pk or not isinstance(payload.get("w"), int):
        raise _refusal("CHECKIN_TOKEN_INVALID", "This is not a valid check-in ticket.")
    window = CheckinWindow.objects.select_related("session__course").filter(pk=payload["w"]).first()
    if window is None:
        raise _refusal("CHECKIN_TOKEN_INVALID", "This is not a valid check-in ticket.")
    window_check(window)
    return window


def window_check(window: CheckinWindow) -> None:
    if not window.session.is_open:
        raise _refusal("SESSION_FINALIZED", "This register is already finalised.")
    if window.closed_at is not None or window.closes_at <= timezone.now():
        raise _refusal("CHECKIN_CLOSED", "Check-in for this lesson is closed.")


def _refusal(code: str, message: str) -> DomainError:
    return DomainError(message, error_code=code, kind=REFUSAL_KIND.get(code, ErrorKind.INVALID))


def device_id_new() -> str:
    return secrets.token_urlsafe(16)


# --- the selfie -------------------------------------------------------------------------------


@dataclass
class CheckinResult:
    attempt: CheckinAttempt
    record: AttendanceRecord | None
    elapsed_ms: int


def checkin_submit(*, window: CheckinWindow, user: User, selfie: bytes | None = None,
                   frames: Sequence[bytes] = (), device_id: str, position: Position | None = None,
                   client_address: str = "") -> CheckinResult:
    """A student's check-in with the frames of the page's liveness step (a look at the camera, then a
    head turn), or a single `selfie`. Always logs a `CheckinAttempt` and returns it: `present`,
    `pending` (with the reasons) or `refused` (with an error code: ALREADY_CHECKED_IN, TEACHER_DECIDED,
    FACE_MISMATCH, SELFIE_REPLAYED and FACE_OF_ANOTHER_STUDENT (`replay`), NOT_ENROLLED, an image
    error...). Recognition errors that retrying can help (RecognitionUnavailable) are raised, nothing written.

    `present` needs every signal the server can trust (`attendance.checkin.presence`): the request from
    the school's network (`client_address`, read as NUM_PROXIES says), a head turn of one person across
    the frames, the student's own face confidently, no copy of an enrolled photo, a phone no other
    student checked in from, and a position inside the geofence when one is set. Short of any, pending."""
    started = time.perf_counter()
    session = window.session
    student = StudentProfile.objects.filter(user=user).first()
    if student is None:
        return _refused(window, user, None, device_id, "NOT_A_STUDENT", "Only students check themselves in.", started)
    record = AttendanceRecord.objects.filter(session=session, student=student).first()
    if record is None:
        records_ensure(session)
        record = AttendanceRecord.objects.filter(session=session, student=student).first()
    if record is None:
        return _refused(window, user, student, device_id, "NOT_ENROLLED", "You are not in this class.", started)
    try:
        window_check(window)
    except DomainError as exc:
        return _refused(window, user, student, device_id, exc.error_code, exc.message, started)
    if _checked_in(session, student):
        return _refused(window, user, student, device_id, "ALREADY_CHECKED_IN",
                        "You have already checked in to this lesson.", started)
    if is_teachers(record):
        return _refused(window, user, student, device_id, "TEACHER_DECIDED",
                        f"Your teacher has already marked you {record.get_status_display().lower()}.", started)
    pictures = list(frames) or ([selfie] if selfie else [])
    if not pictures or len(pictures) > presence.MAX_FRAMES:
        return _refused(window, user, student, device_id, "INVALID_FRAMES",
                        f"Send a selfie, or 2 to {presence.MAX_FRAMES} pictures of the head turn.", started)
    reasons: list[str] = []
    try:
        # A selfie's face fills the picture: a 1600 px copy encodes as well as 12 MP, several times faster.
        reduced = [_reduced(decode_image(picture).pixels, SELFIE_PIXELS) for picture in pictures]
    except RecognitionError as exc:
        return _refused(window, user, student, device_id, exc.error_code, exc.message, started)
    smalls = [image_to_jpeg(pixels, quality=92) for pixels in reduced]
    # Every picture's hash is logged with the attempt, refused or not: once sent, it is never new evidence.
    hashes = [picture_hash(pixels) for pixels in reduced]
    replayed = replay.replayed_source(hashes)
    if replayed:
        logger.warning("check-in refused: session %s student %s sent %s again", session.pk, student.pk, replayed)
        return _refused(window, user, student, device_id, "SELFIE_REPLAYED",
                        f"This picture is a copy of {replayed} the school already has, not a new selfie; "
                        "take a new one.", started, hashes=hashes)
    distance = None
    kept = smalls[0]
    confident, uncertain = thresholds_for(session.course)
    embeddings = [face.embedding for face in FaceEmbedding.objects.matchable().filter(student=student)]
    if not student.consent_given:
        # No biometric processing without consent, the liveness step included.
        reasons.append("no consent for face recognition: check the selfie by eye")
    else:
        backend = get_backend()
        try:
            faces = [backend.face_pose(small, min_face_area_ratio=SELFIE_MIN_FACE_AREA) for small in smalls]
        except RecognitionUnavailable:
            raise
        except RecognitionError as exc:
            return _refused(window, user, student, device_id, exc.error_code, exc.message, started, hashes=hashes)
        liveness = presence.liveness_judge(faces=faces, enrolled=embeddings)
        kept = smalls[liveness.selfie_index]
        selfie_embedding = faces[liveness.selfie_index].embedding
        distance = nearest_distance(selfie_embedding, embeddings) if embeddings else None
        other = replay.nearer_other_student(student=student, embedding=selfie_embedding, own_distance=distance,
                                            uncertain=uncertain)
        if other is not None:
            # One face, two accounts: the answer does not say whom the selfie resembles; the log does.
            logger.warning("check-in refused: session %s: the selfie sent by student %s's login matches student "
                           "%s (distance %.3f, own %s)", session.pk, student.pk, other.student_id, other.distance,
                           "none" if distance is None else f"{distance:.3f}")
            return _refused(window, user, student, device_id, "FACE_OF_ANOTHER_STUDENT",
                            "The selfie looks like another student, not you; check in with your own face.",
                            started, distance=distance, hashes=hashes)
        if distance is None:
            reasons.append("no approved enrolled face to compare with: check the selfie by eye")
        elif distance >= uncertain:
            return _refused(window, user, student, device_id, "FACE_MISMATCH",
                            "The selfie does not match your enrolled face; try again facing the camera, or "
                            "ask your teacher.", started, distance=distance, hashes=hashes)
        elif distance >= confident:
            reasons.append(f"the selfie only resembles the enrolled face (distance {distance:.2f})")
        reasons.extend(liveness.reasons)
    reasons.extend(presence.network_reasons(client_address))
    reasons.extend(_device_reasons(session, student, device_id))
    metres = None
    fence = geofence()
    if fence is not None:
        centre, radius = fence
        if position is None:
            reasons.append("location not shared")
        else:
            metres = round(presence.metres_between(position, centre))
            if metres > radius:
                reasons.append(f"{metres} m from school (limit {radius} m)")
    return _accept(window=window, user=user, student=student, device_id=device_id, distance=distance,
                   metres=metres, reasons=reasons, selfie=kept, hashes=hashes,
                   thresholds=(confident, uncertain), started=started)


def _reduced(pixels: np.ndarray, longest: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    if max(height, width) <= longest:
        return pixels
    scale = longest / max(height, width)
    image = Image.fromarray(pixels).resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)
    return np.asarray(image)


def _checked_in(session: AttendanceSession, student: StudentProfile) -> bool:
    return CheckinAttempt.objects.filter(session=session, student=student,
                                         outcome__in=(Outcome.PRESENT, Outcome.PENDING)).exists()


def _device_reasons(session: AttendanceSession, student: StudentProfile, device_id: str) -> list[str]:
    if not device_id:
        return ["the phone sent no device id (cookies off)"]
    others = (CheckinAttempt.objects.filter(session=session, device_id=device_id,
                                            outcome__in=(Outcome.PRESENT, Outcome.PENDING))
              .exclude(student=student).select_related("student"))
    names = sorted({attempt.student.full_name for attempt in others if attempt.student})
    return [f"same phone as {', '.join(names)}"] if names else []


def _refused(window: CheckinWindow, user: User, student: StudentProfile | None, device_id: str, code: str,
             message: str, started: float, *, distance: float | None = None,
             hashes: Sequence[str] = ()) -> CheckinResult:
    attempt = CheckinAttempt.objects.create(window=window, session=window.session, user=user, student=student,
                                            device_id=device_id[:64], outcome=Outcome.REFUSED, error_code=code,
                                            reason=message[:200], distance=distance, picture_hashes=list(hashes))
    logger.info("check-in refused: session %s student %s: %s", window.session_id, getattr(student, "pk", None), code)
    return CheckinResult(attempt=attempt, record=None, elapsed_ms=_ms(started))


def _selfie_delete(attempt: CheckinAttempt) -> None:
    if attempt.selfie.name:
        attempt.selfie.storage.delete(attempt.selfie.name)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _accept(*, window: CheckinWindow, user: User, student: StudentProfile, device_id: str, distance: float | None,
            metres: int | None, reasons: list[str], selfie: bytes, hashes: list[str],
            thresholds: tuple[float, float], started: float) -> CheckinResult:
    outcome = Outcome.PENDING if reasons else Outcome.PRESENT
    attempt = CheckinAttempt(window=window, session=window.session, user=user, student=student,
                             device_id=device_id[:64], outcome=outcome, distance=distance, metres_from_school=metres,
                             reason="; ".join(reasons)[:200], picture_hashes=hashes)
    attempt.selfie.save("selfie.jpg", ContentFile(selfie), save=False)
    try:
        with transaction.atomic():
            session = AttendanceSession.objects.select_for_update().get(pk=window.session_id)
            record = AttendanceRecord.objects.select_for_update().get(session=session, student=student)
            window.session = session
            window_check(window)
            attempt.save()  # one check-in per student and session: a unique constraint backs the check above
            if not is_teachers(record) and record.status in (Status.UNMARKED, Status.PENDING):
                lateness.note_seen(record, CaptureTime(at=timezone.now(), source="self"))
                record_mark_seen(record=record, sure=not reasons, source=Source.SELF,
                                 deadline=lateness.late_after(session), thresholds=thresholds, distance=distance,
                                 reason="Self check-in: " + attempt.reason if reasons else "Self check-in")
                record.save()
            attempt.record = record
            attempt.save(update_fields=["record"])
    except IntegrityError:
        _selfie_delete(attempt)
        return _refused(window, user, student, device_id, "ALREADY_CHECKED_IN",
                        "You have already checked in to this lesson.", started)
    except DomainError as exc:
        _selfie_delete(attempt)
        return _refused(window, user, student, device_id, exc.error_code, exc.message, started, hashes=hashes)
    except BaseException:
        _selfie_delete(attempt)
        raise
    logger.info("check-in: session %s student %s: %s", window.session_id, student.pk, outcome)
    return CheckinResult(attempt=attempt, record=record, elapsed_ms=_ms(started))


def checkin_selfies_purge(*, older_than: datetime.timedelta, dry_run: bool = False) -> int:
    """Deletes the files of check-in selfies older than `older_than` (the retention of classroom
    photos); the attempts, their outcome and distance stay. Returns how many."""
    expired = list(CheckinAttempt.objects.filter(created_at__lt=timezone.now() - older_than).exclude(selfie=""))
    if dry_run:
        return len(expired)
    for attempt in expired:
        with transaction.atomic():
            CheckinAttempt.objects.filter(pk=attempt.pk).update(selfie="")
            transaction.on_commit(functools.partial(attempt.selfie.storage.delete, attempt.selfie.name or ""))
    return len(expired)
