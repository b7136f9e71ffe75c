"""Roster import from CSV, shared by `manage.py import_roster` and the roster page.

Columns (header row required, any order, UTF-8 with or without BOM):

| column | required | meaning |
|---|---|---|
| student_number | yes | the school's unique number; an existing student with it is updated |
| first_name, last_name | yes | names |
| guardian_email | no | where absence e-mails go |
| course_code | no | enrol the student in this course (overrides the default course); a teacher: only their own |
| consent | no | yes/no: records (yes) or withdraws (no) consent to face recognition, by the importer |
| year_group | no | the school's year or grade ("Year 3", "Grade 5"): how often faces are renewed |
| date_of_birth | no | YYYY-MM-DD; when given, it decides the renewal interval instead of the year group |

Rows are validated one by one; the valid rows are written in one transaction, the others are
reported with their line numbers.
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet

from accounts.guardian import guardian_contact_may_change
from accounts.models import ConsentEvent, StudentProfile, User
from accounts.services import student_create, student_update
from classes.models import Course
from classes.services import enrollment_add
from school import validators
from school.progress import Progress, no_progress

REQUIRED = ("student_number", "first_name", "last_name")
OPTIONAL = ("guardian_email", "course_code", "consent", "year_group", "date_of_birth")
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


class RosterFileError(Exception):
    """The file as a whole cannot be imported (unreadable, no header, missing columns, too big)."""


def roster_size_check(*, size: int) -> None:
    """Refuses a roster file over ROSTER_MAX_BYTES from its size, before it is read."""
    if size > settings.ROSTER_MAX_BYTES:
        raise RosterFileError(f"the file is {size / 1e6:.1f} MB; a roster may be at most "
                              f"{settings.ROSTER_MAX_BYTES / 1e6:.1f} MB")


@dataclass
class RosterResult:
    created: int = 0
    updated: int = 0
    enrolled: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


@dataclass
class _Row:
    line: int
    number: str
    first_name: str
    last_name: str
    guardian_email: str
    course: Course | None
    consent: bool | None
    year_group: str = ""
    date_of_birth: datetime.date | None = None


def roster_import(*, file: IO[str], by: User, default_course: Course | None = None, dry_run: bool = False,
                  editable: QuerySet[StudentProfile] | None = None,
                  courses: QuerySet[Course] | None = None, progress: Progress = no_progress) -> RosterResult:
    """Imports the roster in `file`. Raises RosterFileError for a file that cannot be read at all.

    `editable` limits which existing students the importer may update (a teacher: their own);
    a row naming another existing student is an error. `courses` limits the courses a row's
    course_code may name (a teacher: those they teach); any other code is reported exactly like a
    code that does not exist, so errors do not reveal other teachers' courses. None (operators)
    allows every student and every course. `progress` wraps the valid rows as they are written
    (a command's progress bar)."""
    try:
        reader = csv.DictReader(file)
        header = [name.strip().lstrip("\ufeff").lower() for name in (reader.fieldnames or [])]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RosterFileError(f"the file cannot be read as CSV: {exc}") from exc
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise RosterFileError(f"missing column(s): {', '.join(missing)} (found: {', '.join(header) or 'none'})")
    reader.fieldnames = header
    result = RosterResult()
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    courses_by_code = {c.code.lower(): c for c in (Course.objects.all() if courses is None else courses)}
    try:
        for count, record in enumerate(reader, start=1):
            if count > settings.ROSTER_MAX_ROWS:
                raise RosterFileError(f"the file has more than {settings.ROSTER_MAX_ROWS} rows; split it")
            line = reader.line_num
            row = _validate(record, line, courses_by_code, default_course, result)
            if row is None:
                continue
            if row.number in seen:
                result.errors.append((line, f"student_number {row.number} repeats line {seen[row.number]}"))
                continue
            seen[row.number] = line
            rows.append(row)
        if editable is not None:
            rows = _only_editable(rows, editable, result)
        rows = _only_allowed_guardian_changes(rows, by, result)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RosterFileError(f"the file cannot be read as CSV: {exc}") from exc
    with transaction.atomic():
        _write(rows, by, result, progress)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _validate(record: dict[str, str | None], line: int, courses: dict[str, Course], default_course: Course | None,
              result: RosterResult) -> _Row | None:
    def value(name: str) -> str:
        return (record.get(name) or "").strip()

    problems = [f"{name} is empty" for name in REQUIRED if not value(name)]
    email = value("guardian_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"guardian_email {email!r} is not an e-mail address")
    course = default_course
    if value("course_code"):
        course = courses.get(value("course_code").lower())
        if course is None:
            problems.append(f"no course with code {value('course_code')!r} among the courses you may enrol into")
    consent = None
    if value("consent"):
        if value("consent").lower() not in _YES | _NO:
            problems.append(f"consent must be yes or no, not {value('consent')!r}")
        consent = value("consent").lower() in _YES
    born = None
    if value("date_of_birth"):
        try:
            born = datetime.date.fromisoformat(value("date_of_birth"))
            validators.birth_date(born)
        except ValueError:
            problems.append(f"date_of_birth {value('date_of_birth')!r} is not a date (YYYY-MM-DD)")
        except ValidationError as exc:
            problems.append(f"date_of_birth: {exc.messages[0]}")
    year_group = value("year_group")
    try:
        validators.printable(year_group)
        if len(year_group) > 20:
            problems.append("year_group is longer than 20 characters")
    except ValidationError:
        problems.append("year_group has control characters (tabs, line breaks)")
    if len(value("student_number")) > 32:
        problems.append("student_number is longer than 32 characters")
    if problems:
        result.errors.append((line, "; ".join(problems)))
        return None
    return _Row(line, value("student_number"), value("first_name")[:100], value("last_name")[:100], email,
                course, consent, year_group, born)


def _only_editable(rows: list[_Row], editable: QuerySet[StudentProfile], result: RosterResult) -> list[_Row]:
    numbers = [row.number for row in rows]
    existing = set(StudentProfile.objects.filter(student_number__in=numbers).values_list("student_number", flat=True))
    allowed = set(editable.filter(student_number__in=numbers).values_list("student_number", flat=True))
    kept = []
    for row in rows:
        if row.number in existing and row.number not in allowed:
            result.errors.append((row.line, f"student_number {row.number} belongs to a student you cannot change"))
        else:
            kept.append(row)
    return kept


def _only_allowed_guardian_changes(rows: list[_Row], by: User, result: RosterResult) -> list[_Row]:
    # The same rule as the pages and the API (accounts.guardian.guardian_contact_change), reported per
    # row instead of failing the whole file.
    existing = StudentProfile.objects.in_bulk([row.number for row in rows if row.guardian_email],
                                              field_name="student_number")
    kept = []
    for row in rows:
        student = existing.get(row.number)
        if (student is not None and row.guardian_email and row.guardian_email != student.guardian_email
                and not guardian_contact_may_change(user=by, student=student)):
            result.errors.append((row.line, f"guardian_email of student {row.number}: only the school office may "
                                            "change a guardian's address once it is set"))
        else:
            kept.append(row)
    return kept


def _write(rows: list[_Row], by: User, result: RosterResult, progress: Progress) -> None:
    existing = StudentProfile.objects.in_bulk([r.number for r in rows], field_name="student_number")
    by_course: dict[int, tuple[Course, list[StudentProfile]]] = {}
    for row in progress(rows):
        student = existing.get(row.number)
        if student is None:
            student = student_create(by=by, student_number=row.number, first_name=row.first_name,
                                     last_name=row.last_name, guardian_email=row.guardian_email,
                                     consent_given=bool(row.consent), channel=ConsentEvent.Channel.IMPORT,
                                     year_group=row.year_group, date_of_birth=row.date_of_birth)
            result.created += 1
        else:
            data: dict = {"first_name": row.first_name, "last_name": row.last_name}
            if row.guardian_email:
                data["guardian_email"] = row.guardian_email
            if row.consent is not None:
                data["consent_given"] = row.consent
            # Optional columns: an empty cell keeps what the school recorded.
            if row.year_group:
                data["year_group"] = row.year_group
            if row.date_of_birth is not None:
                data["date_of_birth"] = row.date_of_birth
            student = student_update(student=student, by=by, data=data, channel=ConsentEvent.Channel.IMPORT)
            result.updated += 1
        if row.course is not None:
            by_course.setdefault(row.course.pk, (row.course, []))[1].append(student)
    for course, students in by_course.values():
        result.enrolled += len(enrollment_add(course=course, students=students))
