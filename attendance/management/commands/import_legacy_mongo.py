"""manage.py import_legacy_mongo DIR: imports the reference system's MongoDB export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from attendance.legacy import services as legacy


class Command(BaseCommand):
    help = ("Imports a mongoexport of the reference system (students.json with face_embeddings, subjects.json, "
            "attendance.json; JSON lines or arrays, Extended JSON) in one transaction. Embeddings are imported "
            "only with consent: recorded in the export, or stated with --consent-recorded. See "
            "attendance/legacy/services.py for the fields read.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="the folder with the exported collections")
        parser.add_argument("--by", required=True, help="username of the importer (and of unknown teachers)")
        parser.add_argument("--consent-recorded", action="store_true",
                            help="the school holds face-recognition consent for every exported student")
        parser.add_argument("--dry-run", action="store_true", help="report what would be imported, write nothing")

    def handle(self, *args: Any, directory: Path, by: str, consent_recorded: bool = False, dry_run: bool = False,
               **options: Any) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        user = User.objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"no user named {by!r}")
        try:
            result = legacy.legacy_import(directory=directory, by=user, consent_recorded=consent_recorded,
                                          dry_run=dry_run)
        except legacy.LegacyFileError as exc:
            raise CommandError(str(exc)) from exc
        for collection, index, message in result.errors:
            self.stderr.write(f"{collection}.json document {index + 1}: {message}")
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(
            f"{prefix}{result.students} students, {result.embeddings} embeddings "
            f"({result.embeddings_without_consent} left out: no consent), {result.courses} new courses, "
            f"{result.enrolments} enrolments, {result.sessions} sessions, {result.records} records, "
            f"{len(result.errors)} documents skipped")
