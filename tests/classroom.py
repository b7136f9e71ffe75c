"""A class of the five people of ../shared/faces/people, enrolled with the real dlib model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import StudentProfile
from classes.models import Course
from recognition.services import face_enrol
from tests import factories

# One enrolment photo per person (john1.jpeg and obama3.jpg show the face too small to enrol).
ENROLMENT_PHOTOS = {
    "obama": ("Barack", "Obama", "people/obama/obama.jpg"),
    "biden": ("Joe", "Biden", "people/biden/biden.jpg"),
    "kit_harington": ("Kit", "Harington", "people/kit_harington/john2.jpeg"),
    "rose_leslie": ("Rose", "Leslie", "people/rose_leslie/img1.jpg"),
    "alex_lacamoire": ("Alex", "Lacamoire", "people/alex_lacamoire/img1.jpg"),
}


@dataclass
class EnrolledClass:
    course: Course
    students: dict[str, StudentProfile]
    faces: Path

    def photo(self, relative: str, name: str | None = None) -> SimpleUploadedFile:
        data = (self.faces / relative).read_bytes()
        return SimpleUploadedFile(name or Path(relative).name, data, content_type="image/jpeg")

    def bytes(self, relative: str) -> bytes:
        return (self.faces / relative).read_bytes()


def make_class(*, teacher: Any, faces: Path, enrol: tuple[str, ...] = tuple(ENROLMENT_PHOTOS)) -> EnrolledClass:
    course = factories.CourseFactory(teacher=teacher, code="MATH-7A", name="Mathematics 7A")
    students = {}
    for key, (first, last, photo) in ENROLMENT_PHOTOS.items():
        student = factories.StudentFactory(first_name=first, last_name=last, created_by=teacher)
        factories.EnrollmentFactory(course=course, student=student)
        if key in enrol:
            face_enrol(student=student, image=(faces / photo).read_bytes(), by=teacher)
        students[key] = student
    return EnrolledClass(course=course, students=students, faces=faces)
