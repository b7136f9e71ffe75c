"""End-to-end cost of a classroom photo through the REST API: wall time and SQL queries.

    .venv/bin/python benchmarks/attendance.py [--faces ../shared/faces] [--repeat 5]

Builds a throw-away SQLite school in a temporary folder (five students enrolled from
`people/`, twenty more without faces), then for each photo opens a fresh session and POSTs the
photo to /api/v1/sessions/{id}/photos/ with a JWT, as a mobile app does. Prints the median time
and the number of SQL queries per upload (first upload of a course, with the candidate matrix
built, and later uploads, with it cached). The photos: two of ../shared/faces and the composed
12 MP phone photo (30 people and a poster) and 1080p webcam frame of tests/scenes.py.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from timing import throwaway_project  # noqa: E402

PHOTOS = ("probes/obama_and_biden.jpg", "groups/bald_guys.jpg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # One teacher uploads every photo: the product's 30 a minute would stop the run.
    throwaway_project("sa-bench-", PHOTO_UPLOAD_THROTTLE_RATE="100000/min")
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import Role, StudentProfile, User
    from classes.models import Course, Enrollment
    from recognition.services import face_enrol

    teacher = User.objects.create_user("bench", password="x", role=Role.TEACHER, email="bench@school.example")
    course = Course.objects.create(name="Benchmark", code="BENCH", teacher=teacher)
    people = {"obama": "obama/obama.jpg", "biden": "biden/biden.jpg", "kit": "kit_harington/john2.jpeg",
              "rose": "rose_leslie/img1.jpg", "alex": "alex_lacamoire/img1.jpg"}
    for number, (name, photo) in enumerate(people.items()):
        student = StudentProfile.objects.create(student_number=f"B{number}", first_name=name, last_name="Bench",
                                                consent_given=True)
        Enrollment.objects.create(course=course, student=student)
        face_enrol(student=student, image=(args.faces / "people" / photo).read_bytes(), by=teacher)
    for number in range(20):
        student = StudentProfile.objects.create(student_number=f"N{number}", first_name="No", last_name="Face")
        Enrollment.objects.create(course=course, student=student)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(teacher).access_token}")
    print(f"course of {course.enrollments.count()} students, 5 with an enrolled face; {args.repeat} uploads each")
    print(f"{'photo':32} {'faces':>5} {'median ms':>10} {'min ms':>8} {'queries':>8}")
    day = 0
    from tests import scenes

    photos = [(relative, (args.faces / relative).read_bytes()) for relative in PHOTOS]
    photos += [("scene: phone 12 MP", scenes.phone_photo(args.faces).jpeg(90)),
               ("scene: webcam 1080p", scenes.webcam_frame(args.faces).jpeg(90))]
    for relative, data in photos:
        times, queries, faces = [], [], 0
        for _ in range(args.repeat):
            day += 1
            date = datetime.date(2026, 1, 1) + datetime.timedelta(days=day)
            session = client.post(f"/api/v1/courses/{course.pk}/sessions/", {"date": str(date)},
                                  format="json").json()
            upload = SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.post(f"/api/v1/sessions/{session['id']}/photos/", {"image": upload},
                                       format="multipart")
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.content
            faces = response.json()["faces_detected"]
            queries.append(len(captured))
        print(f"{relative:32} {faces:>5} {statistics.median(times):>10.0f} {min(times):>8.0f} "
              f"{'/'.join(str(q) for q in sorted(set(queries))):>8}")


if __name__ == "__main__":
    main()
