"""Perceptual hashes of pictures: whether a selfie is the same picture as one the school already has (an
earlier selfie, an enrolment photo, a classroom face crop), re-encoded, rescaled or slightly cropped.

A picture's hash is imagehash's pHash and dHash, each 16x16 (256 bits), written as one string
"<phash hex>:<dhash hex>". Two pictures are the same when *both* differ in at most
`max_distance` bits (PICTURE_HASH_MAX_DISTANCE, 68 of 256). Measured on `../shared/faces` (the 13 portraits
and probes and the 74 face crops of the group photos; tests/recognition/test_picture_hash.py keeps it so):
copies re-encoded at JPEG 90 and 70, rescaled by 0.5, 0.8 and 2, cropped by 2% all round, 4% off one side
or 3% and 2% off two differ by at most 67 bits in either hash; every pair of different pictures, different
photos of one person and crops of neighbouring faces of one photo included, differs by 91 or more in pHash
or 80 or more in dHash. Not held: a crop under 64 px cut by 4% on one side (78 bits for a 45 px crop), and
a cut of 4% off two sides (up to 72). The 64-bit hashes do not separate at all (copies up to 12 bits, two
different face crops 10), which is why the 256-bit ones are used, and both.

A hash is not an image and not an embedding: the picture cannot be rebuilt from it. It still belongs to the
student whose picture it is (consent withdrawal erases it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import imagehash
import numpy as np
from PIL import Image

from recognition.results import FaceBox

HASH_SIZE = 16  # 16x16 bits each
_HEX = HASH_SIZE * HASH_SIZE // 4
HASH_LENGTH = 2 * _HEX + 1  # the stored string: two hex halves and a colon
DEFAULT_MAX_DISTANCE = 68


def picture_hash(pixels: np.ndarray | Image.Image) -> str:
    """The hash of a whole picture (RGB pixels or a Pillow image)."""
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(np.ascontiguousarray(pixels))
    grey = image.convert("L")
    return f"{imagehash.phash(grey, hash_size=HASH_SIZE)}:{imagehash.dhash(grey, hash_size=HASH_SIZE)}"


def crop_region(box: FaceBox, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop of a face shown to people (review grids, the crop API): the box and a third of its larger
    side around it, inside the picture (width, height); (left, top, right, bottom)."""
    width, height = size
    margin = max(box.width, box.height) // 3
    return (max(0, box.left - margin), max(0, box.top - margin),
            min(width, box.right + margin), min(height, box.bottom + margin))


def face_crop_hash(pixels: np.ndarray, box: FaceBox) -> str:
    """The hash of a face's crop (`crop_region`) from a picture's RGB pixels."""
    left, top, right, bottom = crop_region(box, (pixels.shape[1], pixels.shape[0]))
    return picture_hash(pixels[top:bottom, left:right])


def _bits(hashes: Sequence[str]) -> np.ndarray:
    """(n, 2, 256) booleans of well-formed hashes (others are skipped by the caller)."""
    rows = [np.unpackbits(np.frombuffer(bytes.fromhex(h.replace(":", "")), dtype=np.uint8)) for h in hashes]
    return np.asarray(rows, dtype=bool).reshape(len(rows), 2, -1) if rows else np.zeros((0, 2, 4 * _HEX), bool)


def is_hash(value: str) -> bool:
    if len(value) != HASH_LENGTH or value[_HEX] != ":":
        return False
    try:
        bytes.fromhex(value.replace(":", ""))
    except ValueError:
        return False
    return True


def distances(query: str, stored: Sequence[str]) -> np.ndarray:
    """(n, 2) bit differences (pHash, dHash) between `query` and each stored hash."""
    return (_bits([query]) != _bits(stored)).sum(axis=2)


def first_match(queries: Iterable[str], stored: Sequence[str], *, max_distance: int) -> int | None:
    """The index in `stored` of a picture one of `queries` is a copy of (both halves within
    `max_distance` bits), or None. Malformed stored values are never a match."""
    valid = [index for index, value in enumerate(stored) if is_hash(value)]
    if not valid:
        return None
    table = _bits([stored[index] for index in valid])
    for query in queries:
        if not is_hash(query):
            continue
        near = np.flatnonzero(((_bits([query]) != table).sum(axis=2) <= max_distance).all(axis=1))
        if near.size:
            return valid[int(near[0])]
    return None
