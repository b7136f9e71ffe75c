"""Load and fault test of the production stack on loopback (issue 10): N simulated teachers upload real
classroom photos at once; then recognition instances are killed and restarted mid-run.

    scripts/stack start
    /work/main/.venv/bin/python benchmarks/load.py --teachers 8 --photos 6               # load only
    /work/main/.venv/bin/python benchmarks/load.py --teachers 6 --photos 10 --pace 5 --faults  # + faults
    /work/main/.venv/bin/python benchmarks/load.py --teachers 8 --photos 6 --instances 1 # one instance (scaling)

Every request goes to 127.0.0.1 (the stack's web app); the run is bounded by --photos per teacher and
--time-limit. Each teacher gets a course and a session of their own; the photos are the sample photos of
../shared/faces (probes and groups) re-saved with a per-upload JPEG comment, so that each upload is a new
photo (pixels unchanged). Reports throughput (photos/min), upload answer and upload→records-applied
percentiles, status codes, and checks that every accepted photo was processed exactly once.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
FACES = ROOT.parent / "shared" / "faces"
PASSWORD = "bench-pass-2026"  # local stack only: the benchmark's own throwaway accounts


def stack_env() -> dict[str, str]:
    path = ROOT / "var" / "stack" / "env"
    if not path.is_file():
        sys.exit("var/stack/env is missing: run scripts/stack start first")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def setup_school(teachers: int, run: str) -> list[dict[str, Any]]:
    """Teachers, each with a course of the enrolled demo students and a session for this run."""
    os.environ.update(stack_env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from accounts.models import Role, StudentProfile, User
    from attendance.register.services import session_create
    from classes.models import Course, Enrollment

    students = list(StudentProfile.objects.filter(face_embeddings__isnull=False).distinct())
    if not students:
        sys.exit("no enrolled student: scripts/stack start seeds the demo school with faces")
    plan = []
    for index in range(teachers):
        user, created = User.objects.get_or_create(username=f"bench{index}", defaults={"role": Role.TEACHER})
        if created:
            user.set_password(PASSWORD)
            user.save()
        course, _ = Course.objects.get_or_create(code=f"BENCH-{index}", defaults={"name": f"Bench {index}",
                                                                                 "teacher": user})
        for student in students:
            Enrollment.objects.get_or_create(course=course, student=student)
        session = session_create(course=course, date=timezone.localdate(), label=f"load {run}", by=user)
        plan.append({"username": user.username, "session": session.pk})
    return plan


def photo_set() -> list[tuple[str, bytes]]:
    manifest = json.loads((FACES / "manifest.json").read_text())
    files = [entry["file"] for entry in manifest["probes"] + manifest["groups"]]
    return [(name, (FACES / name).read_bytes()) for name in files]


def unique_copy(data: bytes, tag: str) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92, comment=tag.encode())
    return buffer.getvalue()


class Run:
    def __init__(self, base: str) -> None:
        self.base = base
        self.lock = threading.Lock()
        self.codes: Counter[int] = Counter()
        self.undocumented: list[str] = []
        self.answer_ms: list[float] = []
        self.accepted: dict[int, str] = {}  # photo id → who uploaded it
        self.duplicates = 0

    def record(self, response: requests.Response, what: str) -> None:
        with self.lock:
            self.codes[response.status_code] += 1
            if response.status_code >= 500:
                self.undocumented.append(f"{what}: {response.status_code} {response.text[:120]}")


def login(run: Run, plan: dict[str, Any]) -> requests.Session:
    http = requests.Session()
    token = http.post(f"{run.base}/api/v1/auth/token/", json={"username": plan["username"], "password": PASSWORD},
                      timeout=30)
    run.record(token, "login")
    http.headers["Authorization"] = f"Bearer {token.json()['access']}"
    return http


def teacher(run: Run, plan: dict[str, Any], http: requests.Session, photos: list[tuple[str, bytes]], count: int,
            offset: int, stop_at: float, tag: str, pace: float) -> None:
    for index in range(count):
        if time.monotonic() > stop_at:
            return
        name, data = photos[(offset + index) % len(photos)]
        body = unique_copy(data, f"{tag}-{plan['username']}-{index}")
        started = time.perf_counter()
        response = http.post(f"{run.base}/api/v1/sessions/{plan['session']}/photos/",
                             files={"image": (Path(name).name, body, "image/jpeg")}, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        run.record(response, f"upload {name}")
        with run.lock:
            run.answer_ms.append(elapsed)
            if response.status_code in (200, 201, 202):
                answer = response.json()
                if answer.get("duplicate"):
                    run.duplicates += 1
                else:
                    run.accepted[answer["photo"]["id"]] = plan["username"]
        time.sleep(pace)  # a teacher takes the next photo


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def stack(*args: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "stack"), *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def faults(log: list[str], started: float) -> None:
    """Instance 1 dies mid-run; later every instance is down for 30 s; then all come back."""
    time.sleep(10)
    log.append(f"{time.monotonic() - started:5.1f} s: recognition instance 1 stopped")
    stack("recognition", "stop", "1")
    time.sleep(15)
    log.append(f"{time.monotonic() - started:5.1f} s: every recognition instance stopped (30 s)")
    stack("recognition", "stop", "all")
    time.sleep(30)
    stack("recognition", "start", "all")
    log.append(f"{time.monotonic() - started:5.1f} s: every recognition instance started again")


def verify(run: Run, wait_seconds: float) -> dict[str, Any]:
    """Waits for every accepted photo to be processed, then checks each was applied exactly once."""
    from attendance.models import DetectedFace, SessionPhoto

    deadline = time.monotonic() + wait_seconds
    ids = list(run.accepted)
    while time.monotonic() < deadline:
        busy = SessionPhoto.objects.filter(pk__in=ids).exclude(state__in=["done", "failed"]).count()
        if not busy:
            break
        time.sleep(1)
    photos = list(SessionPhoto.objects.filter(pk__in=ids))
    states = Counter(photo.state for photo in photos)
    faces = Counter(DetectedFace.objects.filter(photo_id__in=ids).values_list("photo_id", flat=True))
    twice = [p.pk for p in photos if p.state == "done" and faces.get(p.pk, 0) != p.face_count]
    done = [p for p in photos if p.state == "done" and p.processed_at]
    latencies = [(p.processed_at - p.uploaded_at).total_seconds() for p in done]
    span = (max(p.processed_at for p in done) - min(p.uploaded_at for p in done)).total_seconds() if done else 0
    return {"accepted": len(ids), "found": len(photos), "states": dict(states), "processed_twice": twice,
            "lost": len(ids) - len(photos), "latencies": latencies, "span": span, "done": len(done),
            "faces": sum(p.face_count for p in done)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=8)
    parser.add_argument("--photos", type=int, default=6, help="photos per teacher (bounds the run)")
    parser.add_argument("--time-limit", type=float, default=240, help="seconds of uploading at most")
    parser.add_argument("--wait", type=float, default=240, help="seconds to wait for processing at most")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between a teacher's uploads")
    parser.add_argument("--faults", action="store_true", help="kill recognition instances mid-run")
    parser.add_argument("--instances", type=int, default=2, choices=[1, 2],
                        help="recognition instances running (1 stops the second for the run)")
    parser.add_argument("--web", default="http://127.0.0.1:8100")
    options = parser.parse_args()
    if not options.web.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        sys.exit("this benchmark only targets the stack on loopback")

    run_id = uuid.uuid4().hex[:8]
    plans = setup_school(options.teachers, run_id)
    photos = photo_set()
    if options.instances == 1:
        stack("recognition", "stop", "2")
    run = Run(options.web)
    sessions = [login(run, plan) for plan in plans]  # logged in before the clock starts
    started = time.monotonic()
    stop_at = started + options.time_limit
    threads = [threading.Thread(target=teacher, args=(run, plan, http, photos, options.photos, index * 3, stop_at,
                                                      run_id, options.pace))
               for index, (plan, http) in enumerate(zip(plans, sessions, strict=True))]
    fault_log: list[str] = []
    chaos = threading.Thread(target=faults, args=(fault_log, started)) if options.faults else None
    for thread in threads:
        thread.start()
    if chaos:
        chaos.start()
    for thread in threads:
        thread.join()
    uploads_done = time.monotonic() - started
    if chaos:
        chaos.join()
    result = verify(run, options.wait)
    if options.instances == 1:
        stack("recognition", "start", "2")

    latencies = result["latencies"]
    print(f"run {run_id}: {options.teachers} teachers x {options.photos} photos, {options.instances} recognition "
          f"instance(s){', with faults' if options.faults else ''}; uploads took {uploads_done:.0f} s")
    for line in fault_log:
        print("  fault:", line)
    print(f"uploads answered: p50 {percentile(run.answer_ms, 0.5):.0f} ms, "
          f"p95 {percentile(run.answer_ms, 0.95):.0f} ms, max {max(run.answer_ms, default=0):.0f} ms")
    print(f"status codes: {dict(sorted(run.codes.items()))}; duplicates answered: {run.duplicates}")
    if result["span"]:
        print(f"processed {result['done']} photos ({result['faces']} faces) in {result['span']:.0f} s: "
              f"{60 * result['done'] / result['span']:.1f} photos/min")
    if latencies:
        print(f"upload -> records applied: p50 {statistics.median(latencies):.1f} s, "
              f"p95 {percentile(latencies, 0.95):.1f} s, max {max(latencies):.1f} s")
    print(f"photo states: {result['states']}; lost: {result['lost']}; "
          f"processed twice: {len(result['processed_twice'])}")
    print(f"undocumented 5xx: {len(run.undocumented)}")
    for line in run.undocumented[:10]:
        print("  ", line)
    complete = result["states"].get("done", 0) == result["accepted"]
    failed = result["lost"] or result["processed_twice"] or run.undocumented or not complete
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
