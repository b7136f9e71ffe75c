"""The enrolment quality gate: is this face good enough to recognise the student later?

The checks follow the quality components of ISO/IEC 29794-5 (face image quality): the face's size in
pixels (box width and inter-eye distance), exposure (too dark, too bright, unevenly lit), sharpness and
head pose (yaw, pitch, roll from dlib's 68 landmarks). Each refusal has its own error code and says
what to change.

Calibrated on ../shared/faces (tests/recognition/test_quality.py, benchmarks/small_faces.py):
- sharpness (variance of the Laplacian of the face scaled to 160x160 grey pixels) is 134-1066 on the
  accepted enrolment photos and drops to 2-4 once the photo is blurred by 1/40 of the face width;
- mean face brightness is 111-147, and 16-22 with the exposure cut to 15%;
- the middle of the face's darker half is at most 35% darker than its lighter half on the sample
  photos (a shadow over one half of the face, simulated at 30% light, makes it about 70%);
- the eyes are 48-187 px apart on the sample photos; below 32 px (a face about 80 px wide) dlib's
  embedding of a face drifts from the same face at full size (benchmarks/small_faces.py);
- yaw (recognition.pose) is -30..23° on the sample photos (slight turns are welcome: several photos
  per student in slightly different poses match better); a face turned further than 35° shows one
  cheek more than the other and its embedding moves toward "someone else". Roll (the tilt of the
  line between the eyes) is -9..13°; pitch (the nose tip's place between the eyes and the mouth,
  as an angle) -24..7°.
Exposure is checked before sharpness (a dark face also has little contrast, and "too dark" is the
advice that helps) and sharpness before pose (a blurred face's landmarks are guesses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognition import pose
from recognition.errors import ErrorCode, FaceQualityError
from recognition.results import FaceBox

MIN_FACE_PIXELS = 80  # dlib's detector window: smaller faces give unreliable embeddings
MIN_INTER_EYE_PIXELS = 32.0
MIN_SHARPNESS = 40.0
MIN_BRIGHTNESS = 45.0
MAX_BRIGHTNESS = 220.0
MAX_UNEVEN_LIGHTING = 0.5  # the darker half of the face this much below the lighter one
MAX_YAW_DEGREES = 35.0
MAX_PITCH_DEGREES = 30.0
MAX_ROLL_DEGREES = 20.0
_SAMPLE_SIZE = (160, 160)
_RIGHT_EYE_OF_PICTURE, _LEFT_EYE_OF_PICTURE, _MOUTH = slice(42, 48), slice(36, 42), slice(48, 68)


@dataclass(frozen=True)
class FacePose:
    """Head pose estimated from 68 landmarks, in degrees (0, 0, 0 facing the camera, head level), and
    the distance between the eye centres in pixels."""

    yaw: float
    pitch: float
    roll: float
    inter_eye: float


@dataclass(frozen=True)
class FaceQuality:
    width: int
    sharpness: float
    brightness: float
    uneven_lighting: float = 0.0
    pose: FacePose | None = None

    def as_details(self) -> dict[str, float]:
        details: dict[str, float] = {"face_width": self.width, "sharpness": round(self.sharpness, 1),
                                     "brightness": round(self.brightness, 1),
                                     "uneven_lighting": round(self.uneven_lighting, 2)}
        if self.pose is not None:
            details.update(inter_eye_pixels=round(self.pose.inter_eye, 1), yaw=round(self.pose.yaw, 1),
                           pitch=round(self.pose.pitch, 1), roll=round(self.pose.roll, 1))
        return details


def face_pose(landmarks: np.ndarray) -> FacePose:
    """Yaw from `recognition.pose`; roll is the tilt of the line between the eye centres; pitch comes
    from where the nose tip falls between the eye line (0) and the mouth (1): about 0.5 for a level
    head, toward the eyes when the chin is raised, toward the mouth when it is lowered, read as the
    angle whose sine is twice its offset from the middle. Estimates, good for "turn to the camera"."""
    points = landmarks.astype(np.float64)
    left_eye, right_eye = points[_LEFT_EYE_OF_PICTURE].mean(axis=0), points[_RIGHT_EYE_OF_PICTURE].mean(axis=0)
    eye_line = right_eye - left_eye
    roll = math.degrees(math.atan2(float(eye_line[1]), float(eye_line[0])))
    between_eyes = (left_eye + right_eye) / 2
    down = points[_MOUTH].mean(axis=0) - between_eyes
    length = float(np.dot(down, down))
    position = float(np.dot(points[30] - between_eyes, down)) / length if length else 0.5
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, 2.0 * (position - 0.5)))))
    return FacePose(yaw=pose.yaw_degrees(points), pitch=pitch, roll=roll, inter_eye=float(np.linalg.norm(eye_line)))


def face_quality(pixels: np.ndarray, box: FaceBox, landmarks: np.ndarray | None = None) -> FaceQuality:
    top, bottom = max(0, box.top), min(pixels.shape[0], box.bottom)
    left, right = max(0, box.left), min(pixels.shape[1], box.right)
    crop = pixels[top:bottom, left:right]
    grey = np.asarray(Image.fromarray(crop).convert("L").resize(_SAMPLE_SIZE, Image.Resampling.BILINEAR),
                      dtype=np.float64)
    laplacian = (4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:])
    # The middle of the box (its edges hold hair and background); the two halves of the face.
    middle = grey[32:128, 24:136]
    halves = sorted((float(middle[:, :56].mean()), float(middle[:, 56:].mean())))
    uneven = 1.0 - halves[0] / halves[1] if halves[1] > 0 else 0.0
    return FaceQuality(width=box.width, sharpness=float(laplacian.var()), brightness=float(grey.mean()),
                       uneven_lighting=uneven, pose=None if landmarks is None else face_pose(landmarks))


def check_face_quality(pixels: np.ndarray, box: FaceBox, landmarks: np.ndarray | None = None) -> FaceQuality:
    """The face's quality, or FaceQualityError with a message a teacher or student can act on. Without
    landmarks the inter-eye and pose checks are skipped."""
    quality = face_quality(pixels, box, landmarks)
    details = quality.as_details()

    def refuse(code: str, message: str) -> FaceQualityError:
        return FaceQualityError(code, message, details=details)

    if quality.width < MIN_FACE_PIXELS:
        raise refuse(ErrorCode.FACE_TOO_SMALL,
                     f"The face is {quality.width} pixels wide; at least {MIN_FACE_PIXELS} are needed. "
                     "Use a larger photo or come closer.")
    if quality.pose is not None and quality.pose.inter_eye < MIN_INTER_EYE_PIXELS:
        raise refuse(ErrorCode.FACE_LOW_RESOLUTION,
                     f"The eyes are {quality.pose.inter_eye:.0f} pixels apart; at least {MIN_INTER_EYE_PIXELS:.0f} "
                     "are needed. Come closer to the camera or use a higher-resolution photo.")
    if quality.brightness < MIN_BRIGHTNESS:
        raise refuse(ErrorCode.FACE_TOO_DARK, "The face is too dark. Take the photo facing a window or a light.")
    if quality.brightness > MAX_BRIGHTNESS:
        raise refuse(ErrorCode.FACE_TOO_BRIGHT, "The face is overexposed. Avoid direct light or the flash.")
    if quality.uneven_lighting > MAX_UNEVEN_LIGHTING:
        raise refuse(ErrorCode.FACE_UNEVENLY_LIT,
                     "One side of the face is much darker than the other. Face the light, or move away "
                     "from a lamp or window beside you.")
    if quality.sharpness < MIN_SHARPNESS:
        raise refuse(ErrorCode.FACE_BLURRY,
                     "The face is blurred. Hold the camera still and make sure it is in focus.")
    if quality.pose is not None:
        if abs(quality.pose.yaw) > MAX_YAW_DEGREES:
            raise refuse(ErrorCode.FACE_TURNED,
                         f"The head is turned about {abs(quality.pose.yaw):.0f}° to the side (at most "
                         f"{MAX_YAW_DEGREES:.0f}°). Turn to face the camera.")
        if abs(quality.pose.roll) > MAX_ROLL_DEGREES:
            raise refuse(ErrorCode.FACE_TILTED,
                         f"The head is tilted about {abs(quality.pose.roll):.0f}° to one shoulder (at most "
                         f"{MAX_ROLL_DEGREES:.0f}°). Hold your head straight.")
        if abs(quality.pose.pitch) > MAX_PITCH_DEGREES:
            raise refuse(ErrorCode.FACE_NOT_LEVEL,
                         f"The head is tilted about {abs(quality.pose.pitch):.0f}° "
                         f"{'up' if quality.pose.pitch < 0 else 'down'} (at most {MAX_PITCH_DEGREES:.0f}°). "
                         "Hold your head level and look straight at the camera.")
    return quality
