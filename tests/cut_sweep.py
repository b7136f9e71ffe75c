"""Banded YuNet scans against the scan in one piece, on scenes of tests/scenes.py (the cut sweep of
tests/recognition/test_detectors.py and benchmarks/cut_sweep.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.scenes import Scene, found_faces


def band_cuts(count: int, size: tuple[int, int] = (1920, 1080)) -> list[int]:
    """The rows where a scan of a frame of `size` (scanned as it is) in `count` bands cuts it."""
    from recognition.detectors import yunet

    width, height = size
    return [band.top for band in yunet.bands(height, width, count, 0)[1:]]


@dataclass
class CutSweep:
    """A banded scan of a scene against the scan in one piece (recognition.detectors.yunet)."""

    found_in_one_piece: int = 0
    found_banded: int = 0
    boxes_in_one_piece: int = 0
    boxes_banded: int = 0
    unmatched: int = 0
    max_box_offset: int = 0
    max_embedding_distance: float = 0.0


def banded_against_one_piece(scene: Scene, count: int, encode: Any) -> CutSweep:
    """Scans `scene` in one piece and in `count` bands; each face of the scene found in one piece is
    paired with the banded box most like it: the largest offset of a box side in pixels, and the
    largest distance between the embeddings of the two boxes (`encode(decoded, boxes, jitters)`)."""
    from recognition.detectors import yunet
    from recognition.images import DecodedImage

    whole = yunet.YuNetDetector(threads=1).locate(scene.pixels, smallest_face=20)
    banded = yunet.YuNetDetector(threads=count).locate(scene.pixels, smallest_face=20)
    pairs, _ = found_faces(scene, [(f.box.left, f.box.top, f.box.right, f.box.bottom) for f in whole])
    banded_pairs, _ = found_faces(scene, [(f.box.left, f.box.top, f.box.right, f.box.bottom) for f in banded])
    sweep = CutSweep(found_in_one_piece=len(pairs), found_banded=len(banded_pairs), boxes_in_one_piece=len(whole),
                     boxes_banded=len(banded))
    decoded = DecodedImage(pixels=scene.pixels, format="PNG")
    for box_index in pairs.values():
        box = whole[box_index].box
        twin = max(banded, key=lambda f: yunet.iou(f.box, box), default=None)
        if twin is None or yunet.iou(twin.box, box) <= 0.5:
            sweep.unmatched += 1
            continue
        sides = zip((box.left, box.top, box.right, box.bottom),
                    (twin.box.left, twin.box.top, twin.box.right, twin.box.bottom), strict=True)
        sweep.max_box_offset = max(sweep.max_box_offset, *(abs(a - b) for a, b in sides))
        one, other = encode(decoded, [box, twin.box], 1)
        sweep.max_embedding_distance = max(sweep.max_embedding_distance, float(np.linalg.norm(one - other)))
    return sweep
