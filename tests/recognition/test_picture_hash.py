"""The picture hash's threshold on real photos (`recognition/picture_hash.py`): re-encoded, rescaled and
slightly cropped copies are the same picture; different photos of one person, of different people and
different face crops of one classroom photo are not."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recognition.backends import get_backend
from recognition.images import decode_image
from recognition.picture_hash import (
    DEFAULT_MAX_DISTANCE,
    crop_region,
    distances,
    face_crop_hash,
    first_match,
    picture_hash,
)

PORTRAITS = ["people/obama/obama.jpg", "people/obama/obama2.jpg", "probes/obama1.jpg", "people/biden/biden.jpg",
             "people/biden/biden2.jpg", "people/kit_harington/john1.jpeg", "people/kit_harington/john2.jpeg",
             "people/rose_leslie/img1.jpg", "people/rose_leslie/img2.jpg", "people/alex_lacamoire/img1.jpg"]
CLASSROOMS = ["groups/2008_002470.jpg", "groups/2007_007763.jpg"]  # 6 and 7 faces


def pixels_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def copies(image: Image.Image) -> dict[str, Image.Image]:
    """What a cheat may do to a picture before sending it again."""
    width, height = image.size

    def jpeg(quality: int) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    def cut(left: float, top: float, right: float, bottom: float) -> Image.Image:
        return image.crop((round(width * left), round(height * top), round(width * (1 - right)),
                           round(height * (1 - bottom))))

    return {"jpeg 90": jpeg(90), "jpeg 70": jpeg(70),
            "x0.5": image.resize((width // 2, height // 2)), "x0.8": image.resize((width * 4 // 5, height * 4 // 5)),
            "x2": image.resize((width * 2, height * 2)), "2% all round": cut(0.02, 0.02, 0.02, 0.02),
            "4% left": cut(0.04, 0, 0, 0), "3% top 2% bottom": cut(0, 0.03, 0, 0.02)}


@pytest.fixture(scope="module")
def pictures(faces: Path) -> dict[str, Image.Image]:
    """The portraits, and every face crop of two classroom photos as the review grid cuts them."""
    found = {name: Image.open(faces / name).convert("RGB") for name in PORTRAITS}
    backend = get_backend()
    for name in CLASSROOMS:
        decoded = decode_image((faces / name).read_bytes())
        for index, face in enumerate(backend.detect_faces(decoded).faces):
            found[f"{name} face {index}"] = Image.fromarray(decoded.pixels).crop(
                crop_region(face.box, decoded.size))
    return found


def test_copies_of_a_picture_are_within_the_threshold(pictures: dict[str, Image.Image]) -> None:
    """Measured worst: 67 bits (a 67 px crop cut by 4% on one side). The one limit: a crop under 64 px
    (a face of about 40 px) cut by 4% on one side loses 2 of its pixels and can differ by more (78 bits
    for a 45 px crop); cut by 2% all round it stays within (50)."""
    worst = 0
    for name, image in pictures.items():
        original = picture_hash(image)
        for how, copy in copies(image).items():
            if how == "4% left" and min(image.size) < 64:
                continue
            phash, dhash = distances(original, [picture_hash(copy)])[0]
            assert max(phash, dhash) <= DEFAULT_MAX_DISTANCE, f"{name} {how}: {phash}, {dhash}"
            worst = max(worst, int(phash), int(dhash))
    assert worst > 0  # the copies do differ: the threshold is what lets them through


def test_different_pictures_are_not_the_same(pictures: dict[str, Image.Image]) -> None:
    """Different photos of one person included (obama.jpg, obama2.jpg and obama1.jpg), and the crops of
    neighbouring faces of one photo."""
    assert len(pictures) >= 20
    hashes = {name: picture_hash(image) for name, image in pictures.items()}
    for first, second in itertools.combinations(hashes, 2):
        phash, dhash = distances(hashes[first], [hashes[second]])[0]
        assert phash > DEFAULT_MAX_DISTANCE or dhash > DEFAULT_MAX_DISTANCE, f"{first} ~ {second}: {phash}, {dhash}"


def test_a_face_crop_hash_finds_the_crop_sent_back(faces: Path) -> None:
    decoded = decode_image((faces / "probes/kit_with_rose.jpg").read_bytes())
    detection = get_backend().detect_faces(decoded)
    stored = [face_crop_hash(decoded.pixels, face.box) for face in detection.faces]
    crop = Image.fromarray(decoded.pixels).crop(crop_region(detection.faces[1].box, decoded.size))
    enlarged = crop.resize((crop.width * 3, crop.height * 3))
    assert first_match([picture_hash(enlarged)], stored, max_distance=DEFAULT_MAX_DISTANCE) == 1
    assert first_match([picture_hash(pixels_of(faces / "people/rose_leslie/img2.jpg"))], stored,
                       max_distance=DEFAULT_MAX_DISTANCE) is None
    assert first_match([picture_hash(enlarged)], ["not a hash", ""], max_distance=DEFAULT_MAX_DISTANCE) is None
