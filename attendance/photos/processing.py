"""Writes of classroom photo processing with a queue (SPEC §7): store first, a worker processes.

Without a broker (`PHOTO_PROCESSING=inline`, the embedded default) `session_photo_submit` is the
request path of `attendance.photos.services.session_photo_process`, unchanged. With one, the upload is
stored at once as a `queued` photo (its raw bytes kept in storage until processed) and a Celery task
runs `photo_process_stored`, which detects, matches and applies the records through the same
`attendance.faces.analysis.photo_analyse` and `photos.photo_apply` as the request path.

Nothing is lost when a part fails: a photo whose task message never reached Redis, or whose worker
died, is queued again by the sweep (`photos_resume`). A worker refreshes its claim on a photo (the row's
`updated_at`) every CLAIM_HEARTBEAT_SECONDS while it works on it, so a claim that is not refreshed for
CLAIM_STALE lost its worker (`kill -9`, a lost machine) and is released by the next sweep, while a slow
but live worker keeps its photo. While recognition is unavailable the photo waits
(`waiting_for_recognition`) and is retried with backoff until PHOTO_RECOGNITION_DEADLINE; processing
is idempotent (the records of a photo are applied once, under the photo's row lock).
"""

from __future__ import annotations

import datetime
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import cast

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from attendance.faces.analysis import photo_analyse
from attendance.models import AttendanceSession, SessionPhoto
from attendance.photos import services as photos
from attendance.register import services
from attendance.register.capture_time import photo_capture_time
from classes.models import Course
from recognition.errors import ErrorCode, RecognitionError, RecognitionUnavailable
from recognition.images import check_image
from recognition.services import content_hash
from school import metrics
from school.middleware import current_request_id

logger = logging.getLogger(__name__)

State = SessionPhoto.State
# A worker refreshes its claim on the photo it processes this often (a thread beside the processing)...
CLAIM_HEARTBEAT_SECONDS = 5.0
# ...so a `processing` photo whose claim was not refreshed for this long lost its worker: the sweep
# (every 15 s, smart_attendance/celery.py) queues it again, within 45 s of the worker's death.
CLAIM_STALE = datetime.timedelta(seconds=30)
# A worker stops refreshing a claim after this long: a photo never takes so long (each recognition call
# is bounded by RECOGNITION_DEADLINE), so a worker still on it is stuck and the photo is given to another.
PROCESSING_LEASE = datetime.timedelta(minutes=10)
# A queued photo, or a waiting one past its retry time, that nothing picked up for this long is re-queued.
SWEEP_GRACE = datetime.timedelta(minutes=1)
# A photo whose processing keeps crashing (not a recognition outage: that has its deadline) stops here.
MAX_ATTEMPTS = 50


# The Celery task that runs photo_process_stored (attendance/photos/tasks.py).
PHOTO_PROCESS_TASK = "attendance.photo_process"


def photo_queue_enabled() -> bool:
    return settings.PHOTO_PROCESSING == "queue"


def session_photo_submit(*, session: AttendanceSession, image: bytes, by: User | None) -> photos.PhotoResult:
    """The one entry point of the API, the pages and `mark_attendance` for a classroom photo: processed
    in the request without a queue, stored and queued with one (`result.queued`)."""
    if not photo_queue_enabled():
        return photos.session_photo_process(session=session, image=image, by=by)
    return session_photo_store(session=session, image=image, by=by)


def attendance_mark_submit(*, course: Course, image: bytes,
                           by: User | None) -> tuple[AttendanceSession, photos.PhotoResult]:
    """The one-shot (SPEC §4) through the same path: today's session of the course, then the photo."""
    if not photo_queue_enabled():
        return photos.attendance_mark(course=course, image=image, by=by)
    check_image(image)  # an unusable file must not leave an empty session behind
    session = services.session_get_or_create_today(course=course, by=by)
    return session, session_photo_store(session=session, image=image, by=by)


def session_photo_store(*, session: AttendanceSession, image: bytes, by: User | None) -> photos.PhotoResult:
    """Stores an upload as a `queued` photo and queues its processing after the commit.

    The file is checked first (type, size, pixel count from its header: InvalidImageError, nothing
    stored). The same photo again is the existing one (`duplicate`), except a `failed` one, which is
    queued again."""
    services.require_open(session)
    check_image(image)
    digest = content_hash(image)
    existing = SessionPhoto.objects.filter(session=session, content_hash=digest).first()
    if existing is not None:
        if existing.state != State.FAILED:
            return cast(photos.PhotoResult, photos.photo_duplicate(session, digest))
        return _photo_requeue(existing, image)
    # Lateness counts from the EXIF capture time, else from now: the upload, not the worker's turn.
    taken = photo_capture_time(image, session_date=session.date)
    photo = SessionPhoto(session=session, content_hash=digest, uploaded_by=by, state=State.QUEUED,
                         taken_at=taken.at, taken_at_source=taken.source)
    return photos.photo_store(photo=photo, file_field="upload", name="upload", content=image, then=_queued)


def _queued(photo: SessionPhoto, session: AttendanceSession) -> photos.PhotoResult:
    transaction.on_commit(lambda: photo_enqueue(photo_id=photo.pk))
    return photos.PhotoResult(photo=photo, faces=[], duplicate=False, processing_time_ms=0.0)


def _photo_requeue(photo: SessionPhoto, image: bytes) -> photos.PhotoResult:
    with transaction.atomic():
        photo = SessionPhoto.objects.select_for_update().get(pk=photo.pk)
        if not photo.upload:
            photo.upload.save("upload", ContentFile(image), save=False)
        photo.state, photo.error_code, photo.error, photo.attempts = State.QUEUED, "", "", 0
        photo.uploaded_at = timezone.now()  # the deadline counts from this upload
        photo.save()
        transaction.on_commit(lambda: photo_enqueue(photo_id=photo.pk))
    return photos.PhotoResult(photo=photo, faces=[], duplicate=False, processing_time_ms=0.0)


def photo_enqueue(*, photo_id: int, countdown: float | None = None) -> bool:
    """Sends the photo's task to the broker. A broker that cannot be reached is logged, not raised:
    the photo is stored, and the sweep queues it when Redis is back."""
    try:
        request_id = current_request_id()  # the upload's, for the worker's logs ("-" from the sweep)
        # Sent by name: the task module imports this one (the task calls photo_process_stored).
        current_app.send_task(PHOTO_PROCESS_TASK, args=[photo_id],
                              kwargs={"request_id": None if request_id == "-" else request_id}, countdown=countdown)
    except Exception:
        logger.exception("photo %s is stored but could not be queued; the sweep will queue it", photo_id)
        _sweep_due(photo_id)
        return False
    return True


def _sweep_due(photo_id: int) -> None:
    # No message was sent: the next sweep queues the photo, without waiting for SWEEP_GRACE first.
    try:
        SessionPhoto.objects.filter(pk=photo_id, state=State.QUEUED).update(
            updated_at=timezone.now() - SWEEP_GRACE - datetime.timedelta(seconds=1))
    except DatabaseError:  # the photo stays queued: the sweep still finds it after the grace
        logger.warning("photo %s could not be marked for the next sweep", photo_id, exc_info=True)


@dataclass
class StoredPhotoOutcome:
    """What one run of `photo_process_stored` did: the result when it applied the photo, or the
    seconds after which to try again (recognition unavailable), or neither (nothing to do, or failed)."""

    result: photos.PhotoResult | None = None
    retry_in: float | None = None


def photo_process_stored(*, photo_id: int) -> StoredPhotoOutcome:
    """Processes a stored photo: detection and matching, then the records, as in the request.

    Safe to run twice or concurrently: a photo already `done` (or `failed`, or deleted) is left alone,
    and the records are applied under the photo's row lock only if it is not `done` yet."""
    photo = _photo_claim(photo_id)
    if photo is None:
        return StoredPhotoOutcome()
    with _claim_heartbeat(photo_id):
        return _photo_process_claimed(photo)


def _photo_process_claimed(photo: SessionPhoto) -> StoredPhotoOutcome:
    photo_id = photo.pk
    session = photo.session
    try:
        with photo.upload.open("rb") as handle:
            image = handle.read()
    except (OSError, ValueError):
        _photo_fail(photo_id, ErrorCode.INVALID_IMAGE, "The uploaded file is missing from storage; upload it again.")
        return StoredPhotoOutcome()
    try:
        analysis = photo_analyse(course=session.course, image=image)
        stored = photos.stored_copy(analysis.decoded)
    except RecognitionUnavailable as exc:
        return StoredPhotoOutcome(retry_in=_photo_wait(photo_id, exc))
    except RecognitionError as exc:  # the photo itself is unusable: retrying cannot help
        _photo_fail(photo_id, exc.error_code, exc.message)
        return StoredPhotoOutcome()
    saved_name: str | None = ""
    try:
        with transaction.atomic():
            session = AttendanceSession.objects.select_for_update().get(pk=session.pk)
            photo = SessionPhoto.objects.select_for_update().get(pk=photo_id)
            if photo.state in (State.DONE, State.FAILED):
                return StoredPhotoOutcome()  # another run got there first: apply nothing twice
            photo.image.save("photo.jpg", ContentFile(stored), save=False)
            saved_name = photo.image.name
            upload = (photo.upload.storage, photo.upload.name or "")
            photo.upload = ""
            photo.save(update_fields=["image", "upload"])
            result = photos.photo_apply(photo=photo, session=session, analysis=analysis)
            transaction.on_commit(lambda: upload[0].delete(upload[1]))
    except BaseException:
        if saved_name:
            photo.image.storage.delete(saved_name)
        raise
    return StoredPhotoOutcome(result=result)


def _photo_claim(photo_id: int) -> SessionPhoto | None:
    with transaction.atomic():
        photo = SessionPhoto.objects.select_for_update().select_related("session__course").filter(pk=photo_id).first()
        if photo is None or photo.state in (State.DONE, State.FAILED):
            return None
        if photo.attempts >= MAX_ATTEMPTS:
            photo.state, photo.error_code = State.FAILED, ErrorCode.RECOGNITION_FAILED
            photo.error = f"The photo could not be processed in {MAX_ATTEMPTS} attempts; upload it again to retry."
            photo.save(update_fields=["state", "error_code", "error", "updated_at"])
            metrics.photo_failed(error_code=photo.error_code)
            return None
        photo.state = State.PROCESSING
        photo.attempts += 1
        photo.save(update_fields=["state", "attempts", "updated_at"])
    return photo


@contextmanager
def _claim_heartbeat(photo_id: int) -> Iterator[None]:
    """Refreshes the claim (`updated_at` of the photo while `processing`) every CLAIM_HEARTBEAT_SECONDS
    until the block ends, for at most PROCESSING_LEASE: the sweep sees that a live worker is on it."""
    stop = threading.Event()
    until = time.monotonic() + PROCESSING_LEASE.total_seconds()

    def beat() -> None:
        try:
            while not stop.wait(CLAIM_HEARTBEAT_SECONDS) and time.monotonic() < until:
                try:
                    SessionPhoto.objects.filter(pk=photo_id, state=State.PROCESSING).update(updated_at=timezone.now())
                except DatabaseError:  # a busy database: the next beat tries again, well within CLAIM_STALE
                    logger.warning("photo %s: its claim could not be refreshed", photo_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"photo-{photo_id}-claim", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _photo_wait(photo_id: int, error: RecognitionUnavailable) -> float | None:
    """Recognition is unavailable: the photo waits and is tried again after a backoff, or fails once
    PHOTO_RECOGNITION_DEADLINE has passed since its upload (its upload is kept: re-uploading it retries)."""
    with transaction.atomic():
        photo = SessionPhoto.objects.select_for_update().get(pk=photo_id)
        if photo.state in (State.DONE, State.FAILED):
            return None
        waited = (timezone.now() - photo.uploaded_at).total_seconds()
        if waited >= settings.PHOTO_RECOGNITION_DEADLINE:
            photo.state, photo.error_code = State.FAILED, error.error_code
            photo.error = ("Face recognition was unavailable for too long; upload the photo again to retry. "
                           f"({error.message})")[:300]
            photo.save(update_fields=["state", "error_code", "error", "updated_at"])
            metrics.photo_failed(error_code=error.error_code)
            logger.warning("photo %s failed: recognition unavailable past the deadline", photo_id)
            return None
        # Exponential backoff with jitter, at least the breaker's own Retry-After, within the deadline.
        backoff = min(settings.PHOTO_RETRY_MAX_SECONDS,
                      settings.PHOTO_RETRY_BASE_SECONDS * 2 ** max(photo.attempts - 1, 0))
        delay = max(backoff * random.uniform(0.8, 1.2), min(float(error.retry_after), backoff))
        delay = min(delay, settings.PHOTO_RECOGNITION_DEADLINE - waited + 1)
        photo.state, photo.error_code = State.WAITING, error.error_code
        photo.error = error.message[:300]
        photo.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
        photo.save(update_fields=["state", "error_code", "error", "next_attempt_at", "updated_at"])
    logger.info("photo %s waits for recognition (%s); next attempt in %.1f s", photo_id, error.error_code, delay)
    return delay


def _photo_fail(photo_id: int, error_code: str, message: str) -> None:
    with transaction.atomic():
        photo = SessionPhoto.objects.select_for_update().get(pk=photo_id)
        if photo.state == State.DONE:
            return
        files = [(photo.upload.storage, photo.upload.name)] if photo.upload.name else []
        photo.state, photo.error_code, photo.error, photo.upload = State.FAILED, error_code, message[:300], ""
        photo.save(update_fields=["state", "error_code", "error", "upload", "updated_at"])
        for storage, name in files:  # an unusable upload is not kept
            transaction.on_commit(partial(storage.delete, name))
    metrics.photo_failed(error_code=error_code)
    logger.warning("photo %s failed: %s %s", photo_id, error_code, message)


def photos_resume() -> int:
    """Queues again the photos nothing is working on: stored while the broker was down, waiting past
    their retry time (the retry's message was lost), or `processing` with a claim nobody refreshed for
    CLAIM_STALE (the worker died: the claim is released, the photo is `queued` again). Returns how many.
    Safe at any time, from several processes: each photo is taken by one sweep (a conditional update),
    never while its worker refreshes its claim, and processing is idempotent."""
    now = timezone.now()
    lost = Q(state=State.QUEUED, updated_at__lt=now - SWEEP_GRACE) | Q(
        state=State.WAITING, next_attempt_at__lt=now - SWEEP_GRACE)
    dead_claim = Q(state=State.PROCESSING, updated_at__lt=now - CLAIM_STALE)
    queued = 0
    for photo_id, state in SessionPhoto.objects.filter(lost | dead_claim).values_list("pk", "state"):
        if state == State.PROCESSING:
            # Released only if still unrefreshed: a heartbeat since the query means its worker lives.
            if not SessionPhoto.objects.filter(dead_claim, pk=photo_id).update(state=State.QUEUED, updated_at=now):
                continue
            metrics.PHOTO_CLAIMS_RELEASED.inc()
            logger.warning("photo %s: its worker stopped refreshing its claim; queued again", photo_id)
        # Not again before the grace (nor by a concurrent sweep).
        elif not SessionPhoto.objects.filter(lost, pk=photo_id).update(updated_at=now):
            continue
        queued += photo_enqueue(photo_id=photo_id)
    return queued
