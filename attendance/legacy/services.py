"""Import of the reference system's MongoDB export (SPEC §7): students with their face embeddings,
subjects and attendance, into this system's tables.

No MongoDB server or driver is needed: the input is a folder of `mongoexport` files, one per
collection, each either JSON lines or a JSON array, in canonical or relaxed Extended JSON
(`{"$oid": ...}`, `{"$date": ...}`, `{"$numberDouble": ...}`):

Fields read (the first one present wins):

- `students.json`: `_id`; the number from `student_number`, `student_id`, `roll_number` or
  `roll_no`; names from `first_name` and `last_name`, or `name`; `guardian_email`, `parent_email`
  or `email`; `consent_given` or `consent`; `face_embeddings`, a list of 128-number lists (or of
  objects with `embedding`).
- `subjects.json`: `_id`; `code` or `subject_code`; `name` or `subject_name`; `teacher` (a username
  here, else the importing user); `students`, ids or numbers of students.
- `attendance.json`: `student` or `student_id`, `subject` or `subject_id` (ids, numbers or codes),
  `date`, and `status` (present, late, absent, excused) or `present` (true/false).

Embeddings are biometric data: they are imported only for students whose export records consent,
or for every student when the operator states that the school holds consent (`consent_recorded`),
which is then recorded as given by the importing user, now. Each imported session is finalised,
labelled "legacy". Everything is written in one transaction; documents that cannot be used are
reported and skipped.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from accounts.consent import consent_record
from accounts.guardian import guardian_contact_change
from accounts.models import ConsentEvent, StudentProfile, User
from attendance.models import AttendanceRecord, AttendanceSession
from classes.models import Course, Enrollment
from recognition.models import FaceEmbedding
from recognition.results import EMBEDDING_SIZE
from school.errors import DomainError

LEGACY_LABEL = "legacy"
LEGACY_MODEL = ("dlib_face_recognition_resnet_model_v1", "legacy-import")
_STATUSES = {s.value for s in AttendanceRecord.Status} - {"unmarked", "pending"}


class LegacyFileError(Exception):
    """A collection file that cannot be read at all."""


@dataclass
class LegacyResult:
    students: int = 0
    embeddings: int = 0
    embeddings_without_consent: int = 0
    courses: int = 0
    enrolments: int = 0
    sessions: int = 0
    records: int = 0
    errors: list[tuple[str, int, str]] = field(default_factory=list)


def plain(value: Any) -> Any:
    """Extended JSON → plain Python values ($oid → str, $date → datetime, $number* → numbers)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, inner), = value.items()
        if key == "$oid":
            return str(inner)
        if key in ("$numberInt", "$numberLong"):
            return int(inner)
        if key == "$numberDouble":
            return float(inner)
        if key == "$date":
            inner = plain(inner)
            if isinstance(inner, int | float):
                return datetime.datetime.fromtimestamp(inner / 1000, tz=datetime.UTC)
            return datetime.datetime.fromisoformat(str(inner).replace("Z", "+00:00"))
    return {key: plain(inner) for key, inner in value.items()}


def read_collection(path: Path) -> list[dict[str, Any]]:
    """The documents of a mongoexport file (JSON lines or a JSON array); [] when the file is absent."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig").strip()
        documents = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()
                                                                    if line.strip()]
        return [plain(doc) for doc in documents if isinstance(doc, dict)]
    except (OSError, UnicodeDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise LegacyFileError(f"{path.name} is not a mongoexport JSON file: {exc}") from exc


def _first(document: dict[str, Any], *names: str) -> Any:
    return next((document[name] for name in names if document.get(name) not in (None, "")), None)


_CONSENT_YES = {"true", "yes", "y", "1", "given", "granted"}


def consent_in_export(value: Any) -> bool:
    """Whether an exported consent value says yes. Only an explicit yes counts: the strings "false",
    "no" or "0" (truthy to Python) and anything unrecognised mean no consent."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _CONSENT_YES


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return datetime.date.fromisoformat(str(value)[:10])


def legacy_import(*, directory: Path, by: User, consent_recorded: bool = False,
                  dry_run: bool = False) -> LegacyResult:
    """Imports the export in `directory`. Raises LegacyFileError when a file is unreadable or the
    folder holds none of the three collections."""
    collections = {name: read_collection(directory / f"{name}.json") for name in ("students", "subjects",
                                                                                  "attendance")}
    if not any(collections.values()):
        raise LegacyFileError(f"{directory} holds no students.json, subjects.json or attendance.json")
    result = LegacyResult()
    with transaction.atomic():
        students = _students(collections["students"], by, consent_recorded, result)
        courses = _subjects(collections["subjects"], students, by, result)
        _attendance(collections["attendance"], students, courses, by, result)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _students(documents: list[dict], by: User, consent_recorded: bool,
              result: LegacyResult) -> dict[str, StudentProfile]:
    """Creates or updates the students; returns them by every reference the export may use."""
    found: dict[str, StudentProfile] = {}
    for index, doc in enumerate(documents):
        number = _first(doc, "student_number", "student_id", "roll_number", "roll_no") or doc.get("_id")
        first, last = _first(doc, "first_name"), _first(doc, "last_name")
        if not (first and last) and _first(doc, "name"):
            first, _, last = str(doc["name"]).strip().partition(" ")
        if not number or not first:
            result.errors.append(("students", index, "no student number or name"))
            continue
        consent = consent_in_export(_first(doc, "consent_given", "consent")) or consent_recorded
        guardian_email = str(_first(doc, "guardian_email", "parent_email", "email") or "").strip()[:254]
        student, created = StudentProfile.objects.update_or_create(
            student_number=str(number)[:32],
            defaults={"first_name": str(first)[:100], "last_name": str(last or "-")[:100]},
            create_defaults={"first_name": str(first)[:100], "last_name": str(last or "-")[:100], "created_by": by,
                             "guardian_email": guardian_email})
        if not created and guardian_email:
            # A known student's guardian address changes the one audited way (the former address is told);
            # an export without one keeps the address the school has.
            try:
                guardian_contact_change(student=student, email=guardian_email, by=by,
                                        channel=ConsentEvent.Channel.IMPORT)
            except DomainError as exc:
                result.errors.append(("students", index, f"guardian_email: {exc.message}"))
        if consent and not student.consent_given:
            consent_record(student=student, given=True, by=by, channel=ConsentEvent.Channel.IMPORT,
                           note="legacy MongoDB import" + (" (operator states the school holds consent)"
                                                           if consent_recorded else ""))
        result.students += 1
        _embeddings(doc.get("face_embeddings") or [], student, by, result, index)
        for reference in {str(number), str(doc.get("_id", number))}:
            found[reference] = student
    return found


def _embeddings(values: list, student: StudentProfile, by: User, result: LegacyResult, index: int) -> None:
    if not student.consent_given:
        result.embeddings_without_consent += len(values)
        return
    for value in values:
        vector = value.get("embedding") if isinstance(value, dict) else value
        try:
            array = np.asarray(vector, dtype=np.float64)
        except (TypeError, ValueError):
            array = np.zeros(0)
        if array.shape != (EMBEDDING_SIZE,) or not np.isfinite(array).all():
            result.errors.append(("students", index, f"an embedding of {student.student_number} is not "
                                                     f"{EMBEDDING_SIZE} numbers"))
            continue
        face = FaceEmbedding(student=student, model_name=LEGACY_MODEL[0], model_version=LEGACY_MODEL[1],
                             detector="unknown", num_jitters=0, box_top=0, box_right=0, box_bottom=0, box_left=0,
                             face_area_ratio=0.0, image_width=0, image_height=0, enrolled_by=by)
        face.embedding = array
        face.content_hash = hashlib.sha256(face.vector).hexdigest()  # the same vector is not imported twice
        if not FaceEmbedding.objects.filter(student=student, content_hash=face.content_hash).exists():
            face.save()
            result.embeddings += 1


def _subjects(documents: list[dict], students: dict[str, StudentProfile], by: User,
              result: LegacyResult) -> dict[str, Course]:
    found: dict[str, Course] = {}
    teachers = {u.username: u for u in User.objects.filter(username__in=[str(d.get("teacher")) for d in documents])}
    for index, doc in enumerate(documents):
        code = _first(doc, "code", "subject_code") or doc.get("_id")
        if not code:
            result.errors.append(("subjects", index, "no code"))
            continue
        teacher = teachers.get(str(doc.get("teacher")), by)
        course, created = Course.objects.get_or_create(
            code=str(code)[:32], defaults={"name": str(_first(doc, "name", "subject_name") or code)[:200],
                                           "teacher": teacher})
        result.courses += created
        for reference in doc.get("students") or []:
            student = students.get(str(reference))
            if student is None:
                result.errors.append(("subjects", index, f"unknown student {reference}"))
                continue
            _, enrolled = Enrollment.objects.get_or_create(course=course, student=student)
            result.enrolments += enrolled
        for reference in {str(code), str(doc.get("_id", code))}:
            found[reference] = course
    return found


def _attendance(documents: list[dict], students: dict[str, StudentProfile], courses: dict[str, Course], by: User,
                result: LegacyResult) -> None:
    sessions: dict[tuple[int, datetime.date], AttendanceSession] = {}
    for index, doc in enumerate(documents):
        student = students.get(str(_first(doc, "student", "student_id", "student_number")))
        course = courses.get(str(_first(doc, "subject", "subject_id", "course", "subject_code")))
        status = str(doc.get("status", "")).lower() or ("present" if doc.get("present") else "absent")
        try:
            day = _as_date(_first(doc, "date", "timestamp"))
        except (TypeError, ValueError):
            day = None
        if student is None or course is None or day is None or status not in _STATUSES:
            result.errors.append(("attendance", index, "unknown student or subject, bad date or status"))
            continue
        key = (course.pk, day)
        if key not in sessions:
            sessions[key], created = AttendanceSession.objects.get_or_create(
                course=course, date=day, label=LEGACY_LABEL,
                defaults={"state": AttendanceSession.State.FINALIZED, "created_by": by, "finalized_by": by,
                          "finalized_at": timezone.now()})
            result.sessions += created
        Enrollment.objects.get_or_create(course=course, student=student)
        AttendanceRecord.objects.update_or_create(
            session=sessions[key], student=student,
            defaults={"status": status, "source": AttendanceRecord.Source.MANUAL, "reason": "imported"})
        result.records += 1
