"""The local backend used by several threads of one process at once (a threaded server, the
live server of the browser tests): every result equals the one computed alone, and the process lives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from recognition.backends import get_backend

PHOTOS = ("probes/obama1.jpg", "people/biden/biden2.jpg", "probes/alex_lacamoire1.jpg",
          "people/rose_leslie/img2.jpg")


def test_concurrent_enrolment_encodings_equal_the_sequential_ones(faces: Path) -> None:
    backend = get_backend()
    images = [(faces / relative).read_bytes() for relative in PHOTOS]
    alone = [backend.encode_face(image).embedding for image in images]

    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda index: (index, backend.encode_face(images[index]).embedding),
                                 [i % len(images) for i in range(18)]))

    for index, embedding in together:
        assert np.allclose(embedding, alone[index], atol=1e-6)


def test_concurrent_classroom_detection_equals_the_sequential_one(faces: Path) -> None:
    backend = get_backend()
    image = (faces / "probes/obama_and_biden.jpg").read_bytes()
    alone = backend.detect_faces(image)

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda _: backend.detect_faces(image), range(8)))

    for detection in together:
        assert [f.box for f in detection.faces] == [f.box for f in alone.faces]
        for face, reference in zip(detection.faces, alone.faces, strict=True):
            assert np.allclose(face.embedding, reference.embedding, atol=1e-6)
