"""manage.py reencode_faces: re-computes enrolled embeddings from their kept photos."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.backends import get_backend
from recognition.errors import RecognitionError
from recognition.models import FaceEmbedding
from recognition.services import face_reencode
from school.errors import DomainError
from school.progress import progress


class Command(BaseCommand):
    help = ("Re-computes every enrolled face embedding from its kept photo with the current recognition backend "
            "(after a model change). Faces enrolled in embeddings-only mode have no photo and are reported: those "
            "students must be enrolled again.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--student", help="only this student number")
        parser.add_argument("--only-outdated", action="store_true",
                            help="skip faces already produced by the current model and version")

    def handle(self, *args: Any, student: str | None = None, only_outdated: bool = False, **options: Any) -> None:
        faces = FaceEmbedding.objects.select_related("student").order_by("pk")
        if student:
            faces = faces.filter(student__student_number=student)
            if not faces.exists():
                raise CommandError(f"no enrolled face for student number {student!r}")
        info = get_backend().model_info()
        if only_outdated:
            faces = faces.exclude(model_name=info.name, model_version=info.version)
        todo = list(faces)
        self.stdout.write(f"model {info.name} {info.version}: {len(todo)} faces to re-encode")
        done, failed = 0, []
        for face in progress(todo, total=len(todo), stream=self.stderr, label="re-encoding"):
            try:
                face_reencode(face=face)
                done += 1
            except (RecognitionError, DomainError) as exc:
                code = getattr(exc, "error_code", "ERROR")
                failed.append(face)
                self.stdout.write(f"face #{face.pk} of {face.student.student_number}: {code}: "
                                  f"{getattr(exc, 'message', None) or getattr(exc, 'detail', '')}")
        self.stdout.write(f"{done} re-encoded, {len(failed)} could not be.")
        if todo and not done:
            raise CommandError("no face could be re-encoded")
