"""Classroom benchmark: the composed scenes of tests/scenes.py (a 12 MP phone photo, a 1080p webcam
frame, a 540 px photo, each on a busy and a plain background, and a group photo scaled down) and
the real group photo groups/bald_guys.jpg, through this product's pipeline and through the naive
`face_recognition` pipeline (HOG with one upsample, then 3 jitters), in one run.

    .venv/bin/python benchmarks/classroom.py [--faces ../shared/faces] [--repeat 3]

Per photo: faces found of those expected, boxes that are nobody, identities recognised (the five
enrolled people pasted from other photos of them), and decode / detect / encode / match
milliseconds (median of --repeat), against the naive pipeline's faces, spurious boxes and time.
Machines are shared and noisy: compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from timing import median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", action="store_true",
                        help="also run every detector on every scene: YuNet, HOG within 3.2 MP, HOG over the "
                             "whole photo with faces from 20 px (an upsampled scan), and dlib's CNN on photos "
                             "up to 0.5 MP")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import numpy as np
    from django.conf import settings

    from recognition.backends.local import DlibBackend, load_face_recognition
    from recognition.images import decode_image
    from recognition.matching import match_faces
    from tests import scenes
    from tests.classroom import ENROLMENT_PHOTOS

    naive_api = load_face_recognition()
    backend = DlibBackend(**settings.RECOGNITION["OPTIONS"])
    enrolled = {key: backend.encode_face((args.faces / photo).read_bytes()).embedding
                for key, (_, _, photo) in ENROLMENT_PHOTOS.items()}
    fixtures = scenes.all_scenes(args.faces)
    bald = decode_image((args.faces / "groups/bald_guys.jpg").read_bytes())
    fixtures.append(scenes.Scene(name="bald_guys", pixels=bald.pixels,
                                 faces=scenes.scaled_group(args.faces, "groups/bald_guys.jpg", 1.0).faces))
    detector = backend.face_detector()
    print(f"detector {backend.detector} (scan budget {detector.max_pixels / 1e6:.1f} MP, faces from "
          f"{backend.smallest_face():.0f} px), classroom jitters {backend.classroom_jitters}; "
          f"median of {args.repeat}; naive = face_recognition HOG, 1 upsample, 3 jitters")
    header = (f"{'photo':16} {'size':>10} {'found':>7} {'nobody':>6} {'ids':>5} {'decode':>6} {'detect':>6} "
              f"{'encode':>6} {'match':>5} {'total':>6} | {'naive':>7} {'nobody':>6} {'ms':>6} {'x':>5}")
    print(header)
    totals = {"found": 0, "expected": 0, "spurious": 0, "photos": 0}
    for scene in fixtures:
        data = scene.jpeg(90)
        decode_ms, decoded = median_ms(lambda d=data: decode_image(d), args.repeat)
        detect_ms, boxes = median_ms(lambda d=decoded: backend._locate(d, backend.smallest_face()), args.repeat)
        encode_ms, embeddings = median_ms(lambda d=decoded, b=boxes: backend._encode(d, b, backend.classroom_jitters),
                                          args.repeat)
        match_ms, matches = median_ms(lambda e=embeddings: match_faces(e, enrolled) if e else [], args.repeat)
        pairs, spurious = scenes.found_faces(scene, [(b.left, b.top, b.right, b.bottom) for b in boxes])
        by_face = {m.face_index: m for m in matches}
        known = [(i, f) for i, f in enumerate(scene.faces) if f.identity]
        recognised = sum(1 for i, f in known if i in pairs and by_face[pairs[i]].student_id == f.identity
                         and by_face[pairs[i]].status == "confident")

        def naive(p: np.ndarray = decoded.pixels) -> list:
            located = naive_api.face_locations(p, number_of_times_to_upsample=1)
            naive_api.face_encodings(p, located, num_jitters=3)
            return located

        naive_ms, located = median_ms(naive, 1)
        naive_pairs, naive_spurious = scenes.found_faces(scene, [(lf, t, r, b) for t, r, b, lf in located])
        total = decode_ms + detect_ms + encode_ms + match_ms
        totals["found"] += len(pairs)
        totals["expected"] += len(scene.faces)
        totals["spurious"] += len(spurious)
        totals["photos"] += 1
        size = f"{scene.size[0]}x{scene.size[1]}"
        ids = f"{recognised}/{len(known)}" if known else "-"
        print(f"{scene.name:16} {size:>10} {len(pairs):>3}/{len(scene.faces):<3} {len(spurious):>6} {ids:>5} "
              f"{decode_ms:6.0f} {detect_ms:6.0f} {encode_ms:6.0f} {match_ms:5.1f} {total:6.0f} | "
              f"{len(naive_pairs):>3}/{len(scene.faces):<3} {len(naive_spurious):>6} {naive_ms:6.0f} "
              f"{naive_ms / total:5.1f}")
    print(f"all: {totals['found']}/{totals['expected']} faces found "
          f"({100 * totals['found'] / totals['expected']:.1f}%), {totals['spurious']} boxes that are nobody in "
          f"{totals['photos']} photos")
    if args.compare:
        compare(fixtures, args.repeat)


def compare(fixtures: list, repeat: int) -> None:
    """The candidates measured against each other: faces found, boxes that are nobody, ms to detect.
    "yunet 1 core" is the same detector scanning in one piece on one core (what bands save)."""
    from recognition.backends.local import DlibBackend
    from recognition.detectors.yunet import YuNetDetector
    from recognition.images import decode_image
    from tests import scenes

    backends = {
        "yunet": DlibBackend(DETECTOR="yunet"),
        "hog 3.2MP": DlibBackend(DETECTOR="hog"),
        "hog upsampled": DlibBackend(DETECTOR="hog", MIN_FACE_PIXELS=20, DETECT_MAX_PIXELS=48_000_000),
        "cnn": DlibBackend(DETECTOR="cnn", MIN_FACE_PIXELS=20, DETECT_MAX_PIXELS=1_000_000),
    }
    candidates = {name: (lambda d, b=backend: b._locate(d, b.smallest_face())) for name, backend in backends.items()}
    one_core = YuNetDetector(threads=1)
    candidates["yunet 1 core"] = lambda d: [f.box for f in one_core.locate(d.pixels, smallest_face=20)]
    print(f"\n{'photo':16} " + " ".join(f"{name:>24}" for name in candidates))
    for scene in fixtures:
        decoded = decode_image(scene.jpeg(90))
        cells = []
        for name, locate in candidates.items():
            if name == "cnn" and scene.size[0] * scene.size[1] > 500_000:
                cells.append(f"{'(too slow)':>24}")
                continue
            ms, boxes = median_ms(lambda f=locate, d=decoded: f(d), repeat if name.startswith("yunet") else 1)
            pairs, spurious = scenes.found_faces(scene, [(b.left, b.top, b.right, b.bottom) for b in boxes])
            cells.append(f"{len(pairs):>3}/{len(scene.faces):<3} {len(spurious):>2} nobody {ms:6.0f} ms")
        print(f"{scene.name:16} " + " ".join(cells))


if __name__ == "__main__":
    main()
