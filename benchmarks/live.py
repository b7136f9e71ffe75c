"""Live attendance figures: live-mode frames through the API, and QR self check-in.

    .venv/bin/python benchmarks/live.py [--faces ../shared/faces] [--frames 10] [--students 30]

Builds a throw-away SQLite school in a temporary folder, then:

1. live mode: POSTs 1280x720 webcam frames composed from ../shared/faces (tests/attendance/live_frames.py;
   10 faces, and 30 faces in three rows) to /api/v1/sessions/{id}/live/frames/ with a JWT, one after the
   other as the page does, and prints the median wall time per frame and the server's own
   processing_time_ms; then "tracked vs encode-all": one drifting 30-face class through both pipelines
   (LIVE_TRACKING off and on) in one run, the median per frame after the first, the faces encoded per frame,
   and whether both modes gave the same marks;
2. QR check-in: one student scans a fresh code and sends a selfie (probes/obama1.jpg), median time
   from the selfie POST to the mark;
3. a bounded loopback load test: --students students (default 30, each a phone with its own
   session and device cookie, faces enrolled from the five people of ../shared/faces/people) scan and
   check in within one minute from 6 threads; prints the outcomes, errors, p50/p95 and the total time.
   Six students share each of the five selfies: since the replay check, a picture sent again is refused
   SELFIE_REPLAYED (after being decoded and hashed). --no-load skips it.

Machines are shared and noisy: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from timing import throwaway_project  # noqa: E402

PEOPLE = {"obama": ("people/obama/obama.jpg", "probes/obama1.jpg"),
          "biden": ("people/biden/biden.jpg", "people/biden/biden2.jpg"),
          "kit_harington": ("people/kit_harington/john2.jpeg", "probes/johnsnow_test1.jpg"),
          "rose_leslie": ("people/rose_leslie/img1.jpg", "people/rose_leslie/img2.jpg"),
          "alex_lacamoire": ("people/alex_lacamoire/img1.jpg", "probes/alex_lacamoire1.jpg")}


def post_frames(api: Any, session_id: int, frames: list[bytes]) -> tuple[list[float], list[float], list[int], int]:
    """POSTs the frames one after the other: request ms, server ms and faces encoded for every frame but
    the first (the warm-up), and the faces of the last frame."""
    from django.core.files.uploadedfile import SimpleUploadedFile  # Django is set up in main()

    walls: list[float] = []
    server: list[float] = []
    encoded: list[int] = []
    faces = 0
    for index, data in enumerate(frames):
        started = time.perf_counter()
        response = api.post(f"/api/v1/sessions/{session_id}/live/frames/",
                            {"image": SimpleUploadedFile("f.jpg", data, content_type="image/jpeg")}, format="multipart")
        wall = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content
        body = response.json()
        if index:
            walls.append(wall)
            server.append(body["processing_time_ms"])
            encoded.append(body.get("encoded_faces", 0))
        faces = len(body["faces"])
    return walls, server, encoded, faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--no-load", action="store_true", help="skip the load test (3.)")
    args = parser.parse_args()
    # The test client's 127.0.0.1 is the school's network: a check-in can be present.
    throwaway_project("sa-bench-live-", LIVE_FRAME_THROTTLE_RATE="1000/min", CHECKIN_NETWORKS="127.0.0.0/8")
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client, override_settings
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import Role, StudentProfile, User
    from attendance.checkin import services as checkin
    from attendance.models import AttendanceRecord, CheckinAttempt
    from attendance.register import services
    from classes.models import Course, Enrollment
    from recognition.models import FaceEmbedding
    from recognition.services import face_enrol
    from tests import scenes
    from tests.attendance.live_frames import frame_jpeg

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    teacher = User.objects.create_user("bench", password="x", role=Role.TEACHER, email="bench@school.example")
    course = Course.objects.create(name="Benchmark", code="BENCH", teacher=teacher)
    enrolled: dict[str, FaceEmbedding] = {}
    for number, (key, (enrolment, _)) in enumerate(PEOPLE.items()):
        student = StudentProfile.objects.create(student_number=f"P{number}", first_name=key, last_name="Bench",
                                                consent_given=True)
        Enrollment.objects.create(course=course, student=student)
        enrolled[key] = face_enrol(student=student, image=(args.faces / enrolment).read_bytes(), by=teacher)

    for number in range(20):  # pupils without a face: live mode never sees everyone, and runs on
        student = StudentProfile.objects.create(student_number=f"N{number}", first_name="No", last_name="Face")
        Enrollment.objects.create(course=course, student=student)

    # --- 1. live frames --------------------------------------------------------------------------
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(teacher).access_token}")
    keys = tuple(PEOPLE)
    print(f"\nlive mode, {args.frames} frames of 1280x720 each (the first one warms up and is not counted)")
    print(f"{'frames':28} {'faces':>5} {'median ms':>10} {'server ms':>10} {'min ms':>8}")
    thirty = [scenes.classroom(args.faces, name=f"thirty-{seed}", size=(1280, 720), row_face_widths=[36, 46, 60],
                               per_row=10, seed=seed, known_rows={k: i % 3 for i, k in enumerate(keys)},
                               blur=0.4).jpeg(85) for seed in range(40, 40 + args.frames + 1)]
    ten = [frame_jpeg(args.faces, keys[:3], seed) for seed in range(60, 60 + args.frames + 1)]
    for day, (label, frames) in enumerate((("10 faces (2 rows)", ten), ("30 faces (3 rows)", thirty)), start=1):
        session = services.session_create(course=course, date=f"2026-01-{day:02d}", by=teacher)
        started_run = api.post(f"/api/v1/sessions/{session.pk}/live/")
        assert started_run.status_code == 201, started_run.content
        walls, server, _, faces = post_frames(api, session.pk, frames)
        print(f"{label:28} {faces:>5} {statistics.median(walls):>10.0f} {statistics.median(server):>10.0f} "
              f"{min(walls):>8.0f}")

    # --- 1b. tracked vs encode-all: the same moving class through both pipelines ------------------
    print(f"\ntracked vs encode-all: {args.frames} frames of 1280x720 with 30 faces, the five students drifting "
          "2 px right and 1 px down a frame (median after the first frame)")
    print(f"{'mode':28} {'faces':>5} {'median ms':>10} {'server ms':>10} {'encoded/frame':>14}")
    drifting = [scenes.classroom(args.faces, name="thirty-drift", size=(1280, 720), row_face_widths=[36, 46, 60],
                                 per_row=10, seed=40, known_rows={k: i % 3 for i, k in enumerate(keys)}, blur=0.4,
                                 offsets={k: (2 * step, step) for k in keys}).jpeg(85)
                for step in range(args.frames + 1)]
    marks: dict[str, dict[int, str]] = {}
    for day, (label, tracking) in enumerate((("encode every face", False), ("tracked", True)), start=10):
        session = services.session_create(course=course, date=f"2026-01-{day:02d}", by=teacher)
        with override_settings(LIVE_TRACKING=tracking):
            assert api.post(f"/api/v1/sessions/{session.pk}/live/").status_code == 201
            walls, server, encoded, faces = post_frames(api, session.pk, drifting)
        marks[label] = dict(AttendanceRecord.objects.filter(session=session).values_list("student_id", "status"))
        print(f"{label:28} {faces:>5} {statistics.median(walls):>10.0f} {statistics.median(server):>10.0f} "
              f"{statistics.median(encoded):>14.0f}")
    same = marks["encode every face"] == marks["tracked"]
    present = sum(1 for status in marks["tracked"].values() if status == "present")
    print(f"same marks in both modes: {'yes' if same else 'NO'} ({present} present)")

    # --- 2. one QR check-in, with the liveness step's frames (Obama turned ~24° each way) ----------
    session = services.session_create(course=course, date="2026-02-01", by=teacher)
    window = checkin.checkin_window_create(session=session, by=teacher, minutes=30)
    turn = [(args.faces / frame).read_bytes() for frame in ("people/obama/obama2.jpg", "probes/obama1.jpg")]
    obama = enrolled["obama"].student
    obama.user = User.objects.create_user("pupil-obama", password="x", role=Role.STUDENT)
    obama.save()
    times = []
    for _ in range(5):
        CheckinAttempt.objects.filter(session=session).delete()
        AttendanceRecord.objects.filter(session=session).update(status="unmarked", source="none")
        phone = Client()
        phone.force_login(obama.user)
        phone.get(f"/checkin/{checkin.checkin_token_make(window=window)}/")
        started = time.perf_counter()
        response = phone.post("/checkin/", {"frames": [SimpleUploadedFile(f"f{n}.jpg", data, content_type="image/jpeg")
                                                       for n, data in enumerate(turn)]})
        times.append((time.perf_counter() - started) * 1000)
        assert b'data-checkin-outcome="present"' in response.content, response.content[:500]
    print(f"\nQR check-in, POST of {len(turn)} liveness frames ({sum(map(len, turn)) // 1024} KB) to the mark: median "
          f"{statistics.median(times):.0f} ms, min {min(times):.0f} ms")

    if args.no_load:
        return

    # --- 3. load test: N students within one minute ----------------------------------------------
    session = services.session_create(course=course, date="2026-02-02", by=teacher)
    phones = []
    for number in range(args.students):
        key = keys[number % len(keys)]
        student = StudentProfile.objects.create(student_number=f"L{number}", first_name=f"Load{number}",
                                                last_name=key, consent_given=True)
        Enrollment.objects.create(course=course, student=student)
        source = enrolled[key]
        copy = FaceEmbedding(student=student, vector=source.vector, model_name=source.model_name,
                             model_version=source.model_version, detector=source.detector,
                             num_jitters=source.num_jitters, box_top=source.box_top, box_right=source.box_right,
                             box_bottom=source.box_bottom, box_left=source.box_left,
                             face_area_ratio=source.face_area_ratio, image_width=source.image_width,
                             image_height=source.image_height, content_hash=f"copy-{number}")
        copy.save()
        student.user = User.objects.create_user(f"load{number}", password="x", role=Role.STUDENT)
        student.save()
        phones.append((student, (args.faces / PEOPLE[key][1]).read_bytes()))
    window = checkin.checkin_window_create(session=session, by=teacher, minutes=30)
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    errors: list[str] = []

    def check_in(item: tuple[StudentProfile, bytes]) -> None:
        student, data = item
        phone = Client()
        phone.force_login(student.user)
        try:
            scanned = phone.get(f"/checkin/{checkin.checkin_token_make(window=window)}/")
            started = time.perf_counter()
            response = phone.post("/checkin/", {"selfie": SimpleUploadedFile("s.jpg", data,
                                                                             content_type="image/jpeg")})
            elapsed = (time.perf_counter() - started) * 1000
        except Exception as exc:  # the load test reports every failure, it does not stop at the first
            with lock:
                errors.append(f"{student.student_number}: {type(exc).__name__}: {exc}")
            return
        with lock:
            latencies.append(elapsed)
            if scanned.status_code != 302 or response.status_code >= 500:
                errors.append(f"{student.student_number}: scan {scanned.status_code}, check-in {response.status_code}")
            text = response.content.decode()
            outcome = next((o for o in ("present", "pending", "refused") if f'data-checkin-outcome="{o}"' in text),
                           f"HTTP {response.status_code}")
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        list(pool.map(check_in, phones))
    total = time.perf_counter() - started
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0
    print(f"\nload test: {args.students} students, {args.threads} threads, loopback (Django test client)")
    print(f"  total {total:.1f} s ({'within' if total <= 60 else 'OVER'} one minute); outcomes {outcomes}; "
          f"errors {len(errors)}")
    print(f"  per check-in: p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms")
    for error in errors[:10]:
        print("  error:", error)
    refusals = CheckinAttempt.objects.filter(session=session, outcome="refused").values_list("error_code", "reason")
    for code, reason in list(refusals)[:10]:
        print(f"  refused: {code}: {reason}")
    marked = AttendanceRecord.objects.filter(session=session, status__in=["present", "late"]).count()
    print(f"  records present after the test: {marked}")


if __name__ == "__main__":
    main()
