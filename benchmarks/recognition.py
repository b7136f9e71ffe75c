"""Recognition benchmark: prints every figure of the recognition targets, measured in one run.

    .venv/bin/python benchmarks/recognition.py [--faces ../shared/faces] [--repeat 5]

For each photo of manifest.json: faces found vs expected, detect and encode milliseconds (median of
--repeat runs), ms per face, and the same photo through the naive face_recognition pipeline
(`face_locations` with its defaults, then `face_encodings` with num_jitters=3) with the speed ratio.
Then: enrolment (encode one face, 5 jitters), local vs remote overhead on bald_guys.jpg (the
recognition service started with gunicorn on a free loopback port), and matching 100 faces against
10,000 students x 3 embeddings. Machines are shared and noisy: compare figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from timing import median_ms  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_service(port: int) -> subprocess.Popen:
    env = {**os.environ, "SERVICE_ROLE": "recognition", "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "smart_attendance.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "120", "--preload"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import requests

    for _ in range(120):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.25)
    process.kill()
    raise SystemExit("the recognition service did not start: " + process.stderr.read().decode()[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import face_recognition
    import numpy as np
    from django.conf import settings

    from recognition.backends.local import DlibBackend
    from recognition.backends.remote import HTTPBackend
    from recognition.images import decode_image
    from recognition.matching import CandidateSet, match_faces

    backend = DlibBackend(**settings.RECOGNITION["OPTIONS"])
    manifest = json.loads((args.faces / "manifest.json").read_text())
    photos = manifest["groups"] + manifest["probes"] + manifest["edge"]
    backend.detect_faces((args.faces / photos[0]["file"]).read_bytes())  # load the models

    print(f"dlib {backend.model_info().version}, detector {backend.detector}, classroom jitters "
          f"{backend.classroom_jitters}, scan budget {backend.face_detector().max_pixels / 1e6:.1f} MP, "
          f"median of {args.repeat}")
    print(f"{'photo':32} {'found':>5} {'expect':>6} {'decode':>7} {'detect':>7} {'encode':>7} {'total':>7} "
          f"{'ms/face':>7} {'naive':>7} {'x':>5}")
    totals = {"ours": 0.0, "naive": 0.0}
    mismatches = []
    for photo in photos:
        data = (args.faces / photo["file"]).read_bytes()
        decode_ms, decoded = median_ms(lambda d=data: decode_image(d), args.repeat)
        detect_ms, boxes = median_ms(lambda d=decoded: backend._locate(d, backend.smallest_face()), args.repeat)
        encode_ms, _ = median_ms(lambda d=decoded, b=boxes: backend._encode(d, b, backend.classroom_jitters),
                                 args.repeat)
        total_ms, detection = median_ms(lambda d=data: backend.detect_faces(d), args.repeat)
        pixels = face_recognition.load_image_file(str(args.faces / photo["file"]))

        def naive(p: Any = pixels) -> int:
            return len(face_recognition.face_encodings(p, face_recognition.face_locations(p), num_jitters=3))

        naive_ms, _ = median_ms(naive, max(1, args.repeat // 2))
        found = len(detection.faces)
        if found != photo["faces"]:
            mismatches.append(photo["file"])
        totals["ours"] += total_ms
        totals["naive"] += naive_ms
        per_face = f"{(detect_ms + encode_ms) / found:7.1f}" if found else f"{'-':>7}"
        print(f"{photo['file']:32} {found:>5} {photo['faces']:>6} {decode_ms:7.0f} {detect_ms:7.0f} {encode_ms:7.0f} "
              f"{total_ms:7.0f} {per_face} {naive_ms:7.0f} {naive_ms / total_ms:5.1f}")
    print(f"all photos: ours {totals['ours']:.0f} ms, naive {totals['naive']:.0f} ms, "
          f"{totals['naive'] / totals['ours']:.1f}x faster; face counts "
          f"{'all as in the manifest' if not mismatches else 'DIFFER for ' + ', '.join(mismatches)}")

    enrolment = (args.faces / "people/obama/obama.jpg").read_bytes()
    enrol_ms, _ = median_ms(lambda: backend.encode_face(enrolment, num_jitters=5), args.repeat)
    print(f"\nenrolment, people/obama/obama.jpg, 5 jitters: {enrol_ms:.0f} ms median (target <= 250 ms)")

    bald = (args.faces / "groups/bald_guys.jpg").read_bytes()
    port = free_port()
    service = start_service(port)
    try:
        remote = HTTPBackend(URL=f"http://127.0.0.1:{port}", TIMEOUT=60, MAX_RETRIES=0,
                             CLASSROOM_JITTERS=backend.classroom_jitters)
        remote.detect_faces(bald)  # warm the service and the connection
        local_ms, here = median_ms(lambda: backend.detect_faces(bald), args.repeat)
        remote_ms, there = median_ms(lambda: remote.detect_faces(bald), args.repeat)
        same = max(float(np.abs(a.embedding - b.embedding).max()) for a, b in zip(here.faces, there.faces, strict=True))
        print(f"bald_guys.jpg local {local_ms:.0f} ms, remote {remote_ms:.0f} ms: overhead "
              f"{100 * (remote_ms / local_ms - 1):+.1f}% (target <= 10%); max embedding difference {same:.1e}")
    finally:
        service.terminate()
        service.wait(timeout=30)

    rng = np.random.default_rng(0)
    students = {f"s{k}": rng.normal(size=(3, 128)) / 11 for k in range(10_000)}
    candidates = CandidateSet.from_mapping(students)
    queries = rng.normal(size=(100, 128)) / 11
    match_ms, _ = median_ms(lambda: match_faces(queries, candidates), args.repeat)
    print(f"matching 100 faces x 10,000 students x 3 embeddings: {match_ms:.1f} ms median (target <= 50 ms)")


if __name__ == "__main__":
    main()
