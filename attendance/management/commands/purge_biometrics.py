"""manage.py purge_biometrics: applies the retention rules (run it daily)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from attendance.checkin.services import checkin_selfies_purge
from attendance.retention import biometrics_without_consent_purge, classroom_photos_purge
from recognition.learning import learned_held_expire
from school.progress import progress_on


class Command(BaseCommand):
    help = ("Deletes classroom photos and check-in selfies older than PHOTO_RETENTION_DAYS (their face boxes "
            "and the attendance records stay), learned faces held for review that nobody decided on (and the "
            "crops of learned faces) as old, and every face embedding of students without recorded consent. "
            "Run it daily.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="retention in days (default: PHOTO_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args: Any, days: int | None = None, dry_run: bool = False, **options: Any) -> None:
        days = settings.PHOTO_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1")
        verb = "would delete" if dry_run else "deleted"
        photos = classroom_photos_purge(older_than=datetime.timedelta(days=days), dry_run=dry_run,
                                        progress=progress_on(self.stderr, "classroom photos"))
        self.stdout.write(f"classroom photos older than {days} days: {verb} {photos}")
        selfies = checkin_selfies_purge(older_than=datetime.timedelta(days=days), dry_run=dry_run)
        self.stdout.write(f"check-in selfies older than {days} days: {verb} {selfies}")
        held = learned_held_expire(older_than=datetime.timedelta(days=days), dry_run=dry_run)
        self.stdout.write(f"learned faces held for review longer than {days} days: {verb} {held}")
        faces = biometrics_without_consent_purge(dry_run=dry_run, progress=progress_on(self.stderr, "students"))
        self.stdout.write(f"face embeddings of students without consent: {verb} {faces}")
