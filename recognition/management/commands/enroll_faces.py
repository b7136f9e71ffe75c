"""manage.py enroll_faces DIR: enrols faces from a folder per student number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import StudentProfile, User
from recognition.services import face_enrol_path, photo_paths
from school.progress import progress


class Command(BaseCommand):
    help = ("Enrols faces from DIR, which holds one sub-folder per student number with that student's photos "
            "(JPEG, PNG or WebP; one person per photo). Prints each photo's outcome. Students need recorded "
            "consent. Exits non-zero when DIR is missing or when photos were given but none was enrolled.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="a folder with one sub-folder per student number")
        parser.add_argument("--by", help="username recorded as the enroller (default: none)")

    def handle(self, *args: Any, directory: Path, by: str | None = None, **options: Any) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        enroller = None
        if by:
            enroller = User.objects.filter(username=by).first()
            if enroller is None:
                raise CommandError(f"no user named {by!r}")
        folders = sorted(p for p in directory.iterdir() if p.is_dir())
        if not folders:
            raise CommandError(f"{directory} has no sub-folders (one per student number expected)")
        students = StudentProfile.objects.in_bulk([f.name for f in folders], field_name="student_number")
        jobs: list[tuple[StudentProfile, Path]] = []
        for folder in folders:
            if folder.name not in students:
                self.stderr.write(f"{folder.name}/: no student with this student number; skipped")
                continue
            jobs.extend((students[folder.name], photo) for photo in photo_paths(folder))
        enrolled = 0
        for student, photo in progress(jobs, total=len(jobs), stream=self.stderr, label="enrolling"):
            outcome = face_enrol_path(student=student, path=photo, by=enroller)
            where = f"{photo.parent.name}/{photo.name}"
            if outcome.face:
                enrolled += 1
                self.stdout.write(f"{where}: enrolled for {student.full_name} (face #{outcome.face.pk})")
            else:
                self.stdout.write(f"{where}: {outcome.error_code}: {outcome.message}")
        self.stdout.write(f"{enrolled} of {len(jobs)} photos enrolled.")
        if jobs and not enrolled:
            raise CommandError("no photo could be enrolled")
