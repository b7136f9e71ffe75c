"""manage.py mark_attendance --course CODE PHOTO...: takes attendance from classroom photos."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import User
from attendance.models import AttendanceSession, SessionPhoto
from attendance.photos import processing
from attendance.photos import services as photos
from attendance.register import periods, services
from classes.models import Course
from recognition.errors import RecognitionError
from school.errors import DomainError
from school.progress import progress


class Command(BaseCommand):
    help = ("Processes classroom photos for a course's session (today's by default) and prints who was "
            "recognised. Exits non-zero when the course is unknown or every photo failed.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("photos", nargs="+", type=Path, help="classroom photos (JPEG, PNG or WebP)")
        parser.add_argument("--course", required=True, help="the course code")
        parser.add_argument("--date", type=datetime.date.fromisoformat,
                            help="session date, YYYY-MM-DD (default: the running period's session, else today's)")
        parser.add_argument("--label", default="", help="session label, e.g. 'Period 2'")
        parser.add_argument("--by", help="username recorded as the uploader (default: the course's teacher)")
        parser.add_argument("--finalize", action="store_true", help="finalise the session afterwards")
        parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                            help="with a queue (CELERY_BROKER_URL): wait up to this long for the workers")

    def handle(self, *args: Any, photos: list[Path], course: str, date: datetime.date | None = None,
               label: str = "", by: str | None = None, finalize: bool = False, wait: float = 0,
               **options: Any) -> None:
        found = Course.objects.select_related("teacher").filter(code__iexact=course).first()
        if found is None:
            raise CommandError(f"no course with code {course!r}")
        user = found.teacher if not by else User.objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"no user named {by!r}")
        # No date or label: the running timetable period's session (else today's), as on the pages.
        session = (periods.session_for_now(course=found, by=user) if date is None and not label.strip()
                   else self._session(found, date or timezone.localdate(), label, user))
        self.stdout.write(f"session {session} (#{session.pk})")
        processed = 0
        for path in progress(photos, total=len(photos), stream=self.stderr, label="photos"):
            try:
                result = processing.session_photo_submit(session=session, image=path.read_bytes(), by=user)
            except OSError as exc:
                self.stdout.write(f"{path}: cannot be read ({exc.strerror})")
                continue
            except (RecognitionError, DomainError) as exc:
                code = exc.error_code
                self.stdout.write(f"{path}: {code}: {getattr(exc, 'message', None) or getattr(exc, 'detail', '')}")
                continue
            processed += 1
            self._report(path, result)
        if not processed:
            raise CommandError("no photo could be processed")
        if wait > 0:
            self._wait(session, wait)
        if finalize:
            try:
                services.session_finalize(session=session, by=user)
            except DomainError as exc:
                raise CommandError(f"{exc.error_code}: {exc.message}") from exc
            self.stdout.write("session finalised")
        counts: dict[str, int] = {}
        for status in session.records.values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        self.stdout.write("records: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))

    def _session(self, course: Course, date: datetime.date, label: str, user: User) -> AttendanceSession:
        existing = AttendanceSession.objects.filter(course=course, date=date, label=label.strip()).first()
        return existing or services.session_create(course=course, date=date, label=label, by=user)

    def _wait(self, session: AttendanceSession, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        busy = session.photos.filter(state__in=SessionPhoto.ACTIVE_STATES)
        while busy.exists() and time.monotonic() < deadline:
            time.sleep(1)
        for photo in session.photos.exclude(state=SessionPhoto.State.DONE):
            self.stdout.write(f"photo #{photo.pk}: {photo.get_state_display()} {photo.error}".rstrip())

    def _report(self, path: Path, result: photos.PhotoResult) -> None:
        if result.duplicate:
            self.stdout.write(f"{path}: already processed for this session; nothing changed")
            return
        if result.queued:
            self.stdout.write(f"{path}: queued as photo #{result.photo.pk} (a worker recognises the faces)")
            return
        recognised = [f for f in result.faces if f.student_id]
        unknown = len(result.faces) - len(recognised)
        self.stdout.write(f"{path}: {len(result.faces)} faces, {len(recognised)} recognised, {unknown} unknown, "
                          f"{result.processing_time_ms:.0f} ms")
        for face in recognised:
            note = f" ({face.reason})" if face.reason else ""
            name = face.student.full_name if face.student else "?"
            self.stdout.write(f"  {name}: {face.match}, distance {face.distance:.2f}{note}")
