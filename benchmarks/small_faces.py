"""Below which face width does dlib's encoder stop telling people apart? Prints a table.

    .venv/bin/python benchmarks/small_faces.py [--faces ../shared/faces]

Each person of ../shared/faces is enrolled from their enrolment photo (tests/classroom.py, full size,
5 jitters, as face_enrol does). Every known photo of those people (their other photos, the probes and
the enrolment photos themselves) is then scaled down as a whole so that its face is W pixels wide,
W = 12..60 and the original, and encoded at the face's scaled box (one jitter, as classroom photos
are): the box is given, so what is measured is the encoder, not the detector. For each W: the
distance to the same person's enrolment embedding (median, worst), the nearest other person's
(best), how many faces are nearest to their own person, and how many would be assigned to the
wrong person or left unknown at the product's thresholds (confident < 0.50, uncertain < 0.60).
Then the strangers of groups/bald_guys.jpg (nobody enrolled), scaled the same way (only ever
down): the nearest enrolled person's distance and how many would match someone (< 0.60).
The inter-eye distance of a face is about 0.4 of its box width.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smart_attendance.settings")
os.environ.setdefault("SECRET_KEY", "benchmark")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from recognition.backends.local import DlibBackend  # noqa: E402
from recognition.dlib_model import load_face_recognition  # noqa: E402
from recognition.matching import DEFAULT_CONFIDENT_THRESHOLD, DEFAULT_UNCERTAIN_THRESHOLD  # noqa: E402
from recognition.results import FaceBox  # noqa: E402

ENROLMENT = {"obama": "people/obama/obama.jpg", "biden": "people/biden/biden.jpg",
             "kit_harington": "people/kit_harington/john2.jpeg", "rose_leslie": "people/rose_leslie/img1.jpg",
             "alex_lacamoire": "people/alex_lacamoire/img1.jpg"}
QUERIES = {"obama": ["people/obama/obama.jpg", "people/obama/obama2.jpg", "people/obama/obama3.jpg",
                     "probes/obama1.jpg"],
           "biden": ["people/biden/biden.jpg", "people/biden/biden2.jpg"],
           "kit_harington": ["people/kit_harington/john1.jpeg", "people/kit_harington/john2.jpeg",
                             "probes/johnsnow_test1.jpg"],
           "rose_leslie": ["people/rose_leslie/img1.jpg", "people/rose_leslie/img2.jpg"],
           "alex_lacamoire": ["people/alex_lacamoire/img1.jpg", "probes/alex_lacamoire1.jpg"]}
WIDTHS = (12, 16, 20, 24, 28, 32, 36, 40, 48, 60, 0)  # 0: the original size


def load(faces: Path, relative: str) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(faces / relative)).convert("RGB")


def face_box(backend: DlibBackend, image: Image.Image) -> FaceBox:
    data = io.BytesIO()
    image.save(data, format="JPEG", quality=95)
    return backend.encode_face(data.getvalue(), num_jitters=1, min_face_area_ratio=0.0).box


def encode_at_width(image: Image.Image, box: FaceBox, width: int) -> np.ndarray:
    """The face of a portrait with the whole photo scaled so the face is `width` px wide."""
    scale = width / box.width if width else 1.0
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         Image.Resampling.LANCZOS) if width else image
    location = (round(box.top * scale), round(box.right * scale), round(box.bottom * scale), round(box.left * scale))
    (embedding,) = load_face_recognition().face_encodings(np.asarray(small), known_face_locations=[location],
                                                          num_jitters=1)
    return np.asarray(embedding, dtype=np.float64)


def encode_group_at_width(faces: list[tuple[Image.Image, FaceBox]], width: int) -> list[np.ndarray]:
    """The faces of one group photo at `width` px (those at least that wide), each in a copy of the photo
    scaled for it, several faces of one scale encoded in one call."""
    embeddings: list[np.ndarray] = []
    by_scale: dict[float, list[FaceBox]] = {}
    for _, box in faces:
        if not width or width <= box.width:
            by_scale.setdefault(round(width / box.width, 2) if width else 1.0, []).append(box)
    image = faces[0][0] if faces else None
    for scale, boxes in by_scale.items():
        assert image is not None
        small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        locations = [(round(b.top * scale), round(b.right * scale), round(b.bottom * scale), round(b.left * scale))
                     for b in boxes]
        embeddings += [np.asarray(e, dtype=np.float64) for e in
                       load_face_recognition().face_encodings(np.asarray(small), known_face_locations=locations)]
    return embeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    args = parser.parse_args()
    backend = DlibBackend()
    enrolled = {person: backend.encode_face((args.faces / photo).read_bytes()).embedding
                for person, photo in ENROLMENT.items()}
    images = [(person, image, face_box(backend, image)) for person, photos in QUERIES.items() for photo in photos
              for image in [load(args.faces, photo)]]
    group = load(args.faces, "groups/bald_guys.jpg")
    strangers = [(group, FaceBox(top, right, bottom, left)) for top, right, bottom, left in
                 load_face_recognition().face_locations(np.asarray(group), number_of_times_to_upsample=1)]
    print(f"{len(images)} photos of {len(enrolled)} enrolled people; thresholds confident "
          f"{DEFAULT_CONFIDENT_THRESHOLD}, uncertain {DEFAULT_UNCERTAIN_THRESHOLD}\n")
    print("| face width px | same person: median | worst | nearest other: best | nearest is own | "
          "wrong person < 0.60 | own not found (>= 0.60) | strangers: nearest | strangers < 0.60 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for width in WIDTHS:
        same, other, own_nearest, wrong, missed = [], [], 0, 0, 0
        for person, image, box in images:
            embedding = encode_at_width(image, box, width)
            distances = {name: float(np.linalg.norm(embedding - vector)) for name, vector in enrolled.items()}
            mine = distances.pop(person)
            nearest_other = min(distances.values())
            same.append(mine)
            other.append(nearest_other)
            own_nearest += mine < nearest_other
            wrong += nearest_other < DEFAULT_UNCERTAIN_THRESHOLD and nearest_other < mine
            missed += mine >= DEFAULT_UNCERTAIN_THRESHOLD
        stranger_nearest = [min(float(np.linalg.norm(embedding - vector)) for vector in enrolled.values())
                            for embedding in encode_group_at_width(strangers, width)]
        label = str(width) if width else "original"
        print(f"| {label} | {statistics.median(same):.3f} | {max(same):.3f} | {min(other):.3f} | "
              f"{own_nearest}/{len(images)} | {wrong} | {missed} | "
              f"{min(stranger_nearest, default=float('nan')):.3f} | "
              f"{sum(d < DEFAULT_UNCERTAIN_THRESHOLD for d in stranger_nearest)}/{len(stranger_nearest)} |")


if __name__ == "__main__":
    main()
