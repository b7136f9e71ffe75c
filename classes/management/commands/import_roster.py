"""manage.py import_roster CSV: creates or updates students and enrols them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from classes import roster
from classes.models import Course
from school.progress import progress_on


class Command(BaseCommand):
    help = ("Imports students from a CSV file with a header row. Columns: student_number, first_name, last_name "
            "(required); guardian_email, course_code, consent (yes/no) (optional). Existing students (same "
            "student_number) are updated. Rows with errors are reported with their line numbers and skipped; the "
            "valid rows are imported in one transaction. Exit status: 0 when every row was imported, 1 when "
            "some rows had errors (the valid ones are imported all the same), and non-zero with no change when "
            "the file cannot be read or lacks a required column.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv", type=Path, help="the roster file")
        parser.add_argument("--course", help="enrol every student in this course code (unless the row says)")
        parser.add_argument("--by", required=True, help="username recorded as the importer (and consent recorder); "
                                                        "their rights apply: only an office user changes a guardian "
                                                        "address already set")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, *args: Any, csv: Path, course: str | None = None, by: str, dry_run: bool = False,
               **options: Any) -> None:
        user = User.objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"no user named {by!r}")
        default_course = None
        if course:
            default_course = Course.objects.filter(code__iexact=course).first()
            if default_course is None:
                raise CommandError(f"no course with code {course!r}")
        try:
            roster.roster_size_check(size=csv.stat().st_size)
            with csv.open(encoding="utf-8-sig", newline="") as handle:
                result = roster.roster_import(file=handle, by=user, default_course=default_course, dry_run=dry_run,
                                              progress=progress_on(self.stderr, "students"))
        except OSError as exc:
            raise CommandError(f"cannot read {csv}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{csv} is not UTF-8 text") from exc
        except roster.RosterFileError as exc:
            raise CommandError(f"{csv}: {exc}") from exc
        for line, message in result.errors:
            self.stderr.write(f"line {line}: {message}")
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(f"{prefix}{result.created} created, {result.updated} updated, {result.enrolled} "
                          f"enrolments added, {len(result.errors)} rows with errors")
        if result.errors:
            raise SystemExit(1)
