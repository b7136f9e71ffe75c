"""A face's pose from dlib's 68 landmarks, and the head-turn test of self check-in's liveness step.

Pure geometry on landmark coordinates (numpy only): the backends compute the landmarks, this module
judges them, so the rule is the same with the local and the remote backend.

Yaw: the nose tip (landmark 30) projected on the line between the two ends of the jaw line (0 and 16,
near the ears) falls in its middle for a face looking at the camera and moves toward one end as the
head turns. With the jaw ends taken at ±90° on a cylinder, the offset from the middle is tan(yaw). The
ratio does not change when the picture is shifted, scaled, rotated in its plane or re-encoded, so a
still photo stays at one yaw however it is cropped; a head turn changes it by tens of degrees. It is an
estimate (a real jaw is not a cylinder), good for "did the head turn", not for measuring the angle.

Sign: positive when the nose moves toward the right of the picture (in a selfie camera's unmirrored
picture, the person turned to their left).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recognition.results import PosedFace

LANDMARKS = 68
# A head turn is at least this many degrees of yaw between two frames: a printed photo tilted in front of
# the camera moves the estimate by about 7° (tests/recognition/test_pose.py), a turned head by 20-50°.
DEFAULT_MIN_YAW_SPREAD = 20.0
# Two landmark shapes nearer than this once one is mirrored are one picture and its mirror image (a
# mirrored copy measured 0.02, a mirrored crop at 60% 0.05; two real photos of different poses 0.08+).
MIRROR_SHAPE_DISTANCE = 0.06
_JAW_RIGHT_OF_PICTURE, _JAW_LEFT_OF_PICTURE, _NOSE_TIP = 16, 0, 30
# Each landmark's partner in the mirror image of the face (dlib's 68-point layout): jaw, brows, nose
# bridge, nostrils, eyes, outer lips, inner lips.
MIRROR_ORDER = (list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
                + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40] + [54, 53, 52, 51, 50, 49, 48]
                + [59, 58, 57, 56, 55] + [64, 63, 62, 61, 60] + [67, 66, 65])


def yaw_degrees(landmarks: np.ndarray) -> float:
    """The head's yaw estimated from 68 landmarks (x, y) in pixels: 0 facing the camera."""
    left, right, nose = landmarks[_JAW_LEFT_OF_PICTURE], landmarks[_JAW_RIGHT_OF_PICTURE], landmarks[_NOSE_TIP]
    axis = right - left
    length = float(np.dot(axis, axis))
    if length == 0.0:
        return 0.0
    position = float(np.dot(nose - left, axis)) / length  # 0 at the left end, 1 at the right end
    return math.degrees(math.atan(2.0 * position - 1.0))


def shape_distance(first: np.ndarray, second: np.ndarray) -> float:
    """How far two landmark sets are apart once position, size and in-plane rotation are removed
    (Procrustes): about 0.01-0.05 for one photo re-encoded, cropped or scaled, 0.1-0.35 for two photos
    of a face in different poses."""
    a, b = _normalised(first), _normalised(second)
    u, _, vt = np.linalg.svd(b.T @ a)
    if np.linalg.det(u @ vt) < 0:  # a rotation only, never a reflection
        u[:, -1] *= -1
    return float(np.linalg.norm(b @ (u @ vt) - a))


def mirrored(landmarks: np.ndarray) -> np.ndarray:
    """The landmarks of the mirror image of the face (x negated, left and right points swapped)."""
    flipped = landmarks.astype(np.float64).copy()
    flipped[:, 0] = -flipped[:, 0]
    return flipped[MIRROR_ORDER]


def _normalised(points: np.ndarray) -> np.ndarray:
    centred = points.astype(np.float64) - points.mean(axis=0)
    norm = float(np.linalg.norm(centred))
    return centred / norm if norm else centred


@dataclass(frozen=True)
class HeadTurn:
    """The verdict on a few frames: `passed`, or the `reason` it did not; the yaws seen."""

    passed: bool
    reason: str
    yaws: tuple[float, ...]

    @property
    def spread(self) -> float:
        return max(self.yaws) - min(self.yaws) if self.yaws else 0.0


def head_turn(faces: Sequence[PosedFace], *, min_yaw_spread: float, same_person_distance: float,
              mirror_distance: float) -> HeadTurn:
    """Whether the faces of a few frames show one person turning their head.

    Passed when two of the frames are at least `min_yaw_spread` degrees of yaw apart, every frame is
    the same person as the first (embeddings nearer than `same_person_distance`) and the turn is not
    one still photo and its mirror image (landmark shapes nearer than `mirror_distance` once one is
    mirrored). A still photo sent several times, re-encoded, shifted, scaled or rotated keeps one yaw
    and fails; a printed photo tilted in front of the camera moves the estimate by a few degrees only."""
    yaws = tuple(round(face.yaw, 1) for face in faces)
    if len(faces) < 2:
        return HeadTurn(False, "a single picture cannot show a head turn", yaws)
    first = faces[0].embedding
    for face in faces[1:]:
        if float(np.linalg.norm(face.embedding - first)) >= same_person_distance:
            return HeadTurn(False, "the pictures do not all show the same person", yaws)
    turns = [(a, b) for index, a in enumerate(faces) for b in faces[index + 1:]
             if abs(a.yaw - b.yaw) >= min_yaw_spread]
    if not turns:
        spread = max(yaws) - min(yaws)
        return HeadTurn(False, f"no head turn seen ({spread:.0f}° of {min_yaw_spread:.0f}°)", yaws)
    if all(shape_distance(a.landmarks, mirrored(b.landmarks)) < mirror_distance for a, b in turns):
        return HeadTurn(False, "the turn is one picture and its mirror image", yaws)
    return HeadTurn(True, "", yaws)
