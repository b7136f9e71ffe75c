"""A demo school so a newcomer sees the product working: admin, teachers, courses, students, faces."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.consent import consent_record
from accounts.models import ConsentEvent, Role, StudentProfile, User
from attendance.demo.history import demo_calendar, demo_history
from classes.models import Course, Enrollment, TimetableSlot
from recognition.services import face_enrol_path, photo_paths
from school.clock import school_today
from school.progress import progress

DEMO_USERS = [
    # username, role, first name, last name
    ("admin", Role.ADMIN, "Ada", "Admin"),
    ("teacher", Role.TEACHER, "Grace", "Hopper"),
    ("teacher2", Role.TEACHER, "Alan", "Turing"),
]
DEMO_COURSES = [
    # code, name, teacher username
    ("MATH-7A", "Mathematics 7A", "teacher"),
    ("SCI-7A", "Science 7A", "teacher"),
    ("HIST-8B", "History 8B", "teacher2"),
]
DEMO_STUDENTS = [
    ("S1001", "Amelia", "Brown"), ("S1002", "Noah", "Clarke"), ("S1003", "Olivia", "Davies"),
    ("S1004", "Leo", "Evans"), ("S1005", "Isla", "Foster"), ("S1006", "Oscar", "Green"),
]
FACE_COURSE = "MATH-7A"


class Command(BaseCommand):
    help = ("Creates a demo school (an admin, two teachers, courses, students, enrolments) and prints the demo "
            "logins. Safe to run again: nothing is created twice. With --faces DIR, every sub-folder of DIR "
            "becomes a student (the folder name is the student number) enrolled in MATH-7A, whose photos are "
            "enrolled as faces.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--faces", type=Path, help="folder with one sub-folder of photos per student")
        parser.add_argument("--password", default="demo-pass-2026", help="password of the demo logins")
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off (never in production)")
        parser.add_argument("--weeks", type=int, default=4,
                            help="weeks of finalised registers to invent before today (default 4; 0 for none)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo creates known passwords; it runs only with DEBUG on (or --force).")
        faces_dir: Path | None = options["faces"]
        if not 0 <= options["weeks"] <= 52:
            raise CommandError("--weeks must be between 0 and 52")
        if faces_dir is not None and not faces_dir.is_dir():
            raise CommandError(f"--faces {faces_dir} is not a folder")
        created = self._seed_school(options["password"])
        self.stdout.write(f"Demo school ready ({created} new objects).")
        if faces_dir is not None:
            self._seed_faces(faces_dir)
        self._seed_history(options["weeks"])
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {options['password']}):"))
        for username, role, _first, _last in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role}")

    @transaction.atomic
    def _seed_school(self, password: str) -> int:
        created = 0
        users: dict[str, User] = {}
        for username, role, first_name, last_name in DEMO_USERS:
            user, new = User.objects.get_or_create(
                username=username,
                defaults={"role": role, "first_name": first_name, "last_name": last_name,
                          "email": f"{username}@demo-school.example", "is_staff": role == Role.ADMIN,
                          "is_superuser": role == Role.ADMIN},  # the flags follow the role
            )
            if new:
                user.set_password(password)
                user.save()
            users[username] = user
            created += new
        courses = {}
        for code, name, teacher in DEMO_COURSES:
            course, new = Course.objects.get_or_create(code=code, defaults={"name": name, "teacher": users[teacher]})
            courses[code] = course
            created += new
            for weekday in range(5):  # every school day, so the dashboard always has something
                _, new = TimetableSlot.objects.get_or_create(
                    course=course, weekday=weekday,
                    defaults={"start_time": datetime.time(8 + len(courses)),
                              "end_time": datetime.time(9 + len(courses)), "room": f"Room {len(courses)}",
                              "label": f"Period {len(courses)}"})
                created += new
        for number, first_name, last_name in DEMO_STUDENTS:
            student, new = self._student(number, first_name, last_name, users["teacher"])
            created += new
            for code in ("SCI-7A", "HIST-8B"):
                _, new = Enrollment.objects.get_or_create(course=courses[code], student=student)
                created += new
        return created

    def _student(self, number: str, first_name: str, last_name: str, by: User) -> tuple[StudentProfile, bool]:
        student, new = StudentProfile.objects.get_or_create(
            student_number=number,
            defaults={"first_name": first_name, "last_name": last_name, "created_by": by,
                      "guardian_email": f"guardian.{number.lower()}@family.example"},
        )
        if new:  # demo guardians consent; recorded in the history like any consent
            consent_record(student=student, given=True, by=by, channel=ConsentEvent.Channel.COMMAND,
                           given_by=ConsentEvent.Party.GUARDIAN, note="seed_demo")
        return student, new

    def _seed_faces(self, faces_dir: Path) -> None:
        teacher = User.objects.get(username="teacher")
        course = Course.objects.get(code=FACE_COURSE)
        folders = sorted(path for path in faces_dir.iterdir() if path.is_dir())
        if not folders:
            raise CommandError(f"{faces_dir} has no sub-folders (one per student number expected)")
        enrolled = skipped = 0
        for folder in progress(folders, total=len(folders), stream=self.stderr, label="students"):
            first_name, _, last_name = folder.name.replace("_", " ").title().partition(" ")
            student, _ = self._student(folder.name, first_name, last_name or "-", teacher)
            Enrollment.objects.get_or_create(course=course, student=student)
            if student.face_embeddings.exists():
                skipped += 1
                continue
            for photo in photo_paths(folder):
                outcome = face_enrol_path(student=student, path=photo, by=teacher)
                if outcome.face:
                    enrolled += 1
                else:  # report and go on: one bad photo must not stop the demo
                    self.stderr.write(f"  {photo}: not enrolled ({outcome.error_code})")
        self.stdout.write(f"Faces: {enrolled} photos enrolled; {skipped} students already had faces.")

    def _seed_history(self, weeks: int) -> None:
        """A term, a training day and `weeks` of finalised registers (some pupils late, one at risk)."""
        today = school_today()
        demo_calendar(today=today)
        if weeks:
            teacher = User.objects.get(username="teacher")
            courses = list(Course.objects.filter(code__in=[code for code, *_ in DEMO_COURSES]))
            sessions, records = demo_history(courses=courses, by=teacher, weeks=weeks, today=today)
            self.stdout.write(f"History: {sessions} finalised registers with {records} marks over {weeks} weeks.")
