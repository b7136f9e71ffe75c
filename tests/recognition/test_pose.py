"""The liveness step's head-turn test (recognition.pose) with the real dlib model on real photos: one
still photo sent several times (re-encoded, shifted, scaled, rotated, mirrored, tilted like a print held
to the camera) is not a head turn; photos of one person in different poses are (issue 19)."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from recognition import pose
from recognition.backends.local import DlibBackend
from recognition.matching import DEFAULT_UNCERTAIN_THRESHOLD
from recognition.results import PosedFace
from tests.recognition.conftest import ReadPhoto

SELFIE_AREA = 0.02  # a selfie frame's face may be smaller than an enrolment photo's


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def still(read: ReadPhoto, relative: str) -> Image.Image:
    return Image.open(io.BytesIO(read(relative))).convert("RGB")


def posed(backend: DlibBackend, frames: list[bytes]) -> list[PosedFace]:
    return [backend.face_pose(frame, min_face_area_ratio=SELFIE_AREA) for frame in frames]


def judge(faces: list[PosedFace]) -> pose.HeadTurn:
    return pose.head_turn(faces, min_yaw_spread=pose.DEFAULT_MIN_YAW_SPREAD,
                          same_person_distance=DEFAULT_UNCERTAIN_THRESHOLD,
                          mirror_distance=pose.MIRROR_SHAPE_DISTANCE)


def tilted(image: Image.Image, degrees: float) -> Image.Image:
    """The photo as a camera close to it sees it when it is turned `degrees` about its vertical axis
    (a print or a phone screen tilted in front of the selfie camera): one side nearer, one farther."""
    width, height = image.size
    angle = math.radians(degrees)
    camera = 1.2  # the camera's distance from the picture, in picture widths
    near, far = camera / (camera - 0.5 * math.sin(angle)), camera / (camera + 0.5 * math.sin(angle))
    half = width / 2 * math.cos(angle)
    corners = [(width / 2 - half * near, height / 2 * (1 - near)), (width / 2 + half * far, height / 2 * (1 - far)),
               (width / 2 + half * far, height / 2 * (1 + far)), (width / 2 - half * near, height / 2 * (1 + near))]
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, values = [], []
    for (x, y), (u, v) in zip(corners, source, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    coefficients = np.linalg.solve(np.array(rows, dtype=float), np.array(values, dtype=float))
    return image.transform((width, height), Image.Transform.PERSPECTIVE, tuple(coefficients),
                           Image.Resampling.BICUBIC)


def test_one_still_photo_re_encoded_is_not_a_head_turn(dlib_backend: DlibBackend, read: ReadPhoto) -> None:
    photo = still(read, "probes/obama1.jpg")
    verdict = judge(posed(dlib_backend, [read("probes/obama1.jpg"), jpeg(photo, 75), jpeg(photo, 40),
                                         read("probes/obama1.jpg")]))
    assert not verdict.passed and "no head turn" in verdict.reason
    assert verdict.spread < 3


def test_shifted_scaled_and_rotated_crops_of_one_photo_are_not_a_head_turn(dlib_backend: DlibBackend,
                                                                          read: ReadPhoto) -> None:
    photo = still(read, "people/obama/obama2.jpg")  # turned about 24° already
    width, height = photo.size
    frames = [jpeg(photo),
              jpeg(photo.crop((0, 0, int(width * 0.8), height))),  # shifted right in the frame
              jpeg(photo.crop((int(width * 0.2), 0, width, height))),  # shifted left
              jpeg(photo.resize((width // 2, height // 2))),  # scaled
              jpeg(photo.crop((int(width * 0.1), int(height * 0.1), width, height)).resize((width, height))),  # zoomed
              jpeg(photo.rotate(12, resample=Image.Resampling.BICUBIC, expand=True))]  # the phone held askew
    verdict = judge(posed(dlib_backend, frames))
    assert not verdict.passed and "no head turn" in verdict.reason
    assert verdict.spread < 5


def test_a_photo_and_its_mirror_image_are_not_a_head_turn(dlib_backend: DlibBackend, read: ReadPhoto) -> None:
    photo = still(read, "probes/obama1.jpg")
    faces = posed(dlib_backend, [jpeg(photo), jpeg(ImageOps.mirror(photo)),
                                 jpeg(ImageOps.mirror(photo.resize((photo.width * 6 // 10, photo.height * 6 // 10))))])
    assert faces[0].yaw - faces[1].yaw > 40  # the mirror turns the other way...
    verdict = judge(faces)
    assert not verdict.passed and "mirror" in verdict.reason  # ...but it is the same picture


def test_a_printed_photo_tilted_to_and_fro_is_not_a_head_turn(dlib_backend: DlibBackend, read: ReadPhoto) -> None:
    photo = still(read, "people/obama/obama.jpg")
    verdict = judge(posed(dlib_backend, [jpeg(tilted(photo, -40)), jpeg(photo), jpeg(tilted(photo, 40))]))
    assert not verdict.passed and "no head turn" in verdict.reason


def test_one_person_in_different_poses_is_a_head_turn(dlib_backend: DlibBackend, read: ReadPhoto) -> None:
    obama = posed(dlib_backend, [read("people/obama/obama.jpg"), read("people/obama/obama2.jpg"),
                                 read("probes/obama1.jpg")])
    verdict = judge(obama)
    assert verdict.passed, verdict.reason
    assert verdict.spread > 40  # about 24° to one side and 24° to the other
    kit = judge(posed(dlib_backend, [read("people/kit_harington/john2.jpeg"), read("probes/johnsnow_test1.jpg")]))
    assert kit.passed, kit.reason


def test_two_people_are_not_one_head_turn(dlib_backend: DlibBackend, read: ReadPhoto) -> None:
    verdict = judge(posed(dlib_backend, [read("people/obama/obama2.jpg"), read("probes/johnsnow_test1.jpg")]))
    assert not verdict.passed and "same person" in verdict.reason


def test_one_frame_is_never_a_head_turn(dlib_backend: DlibBackend, read: ReadPhoto) -> None:
    verdict = judge(posed(dlib_backend, [read("probes/obama1.jpg")]))
    assert not verdict.passed and "single picture" in verdict.reason


def test_the_yaw_sign_follows_the_nose(dlib_backend: Any, read: ReadPhoto) -> None:
    """Positive when the nose points to the right of the picture; the mirror image flips it."""
    photo = still(read, "probes/obama1.jpg")
    face, flipped = posed(dlib_backend, [jpeg(photo), jpeg(ImageOps.mirror(photo))])
    assert face.yaw > 15 and flipped.yaw < -15
    assert face.landmarks.shape == (68, 2)
    nose, left, right = face.landmarks[30], face.landmarks[0], face.landmarks[16]
    assert nose[0] - left[0] > right[0] - nose[0]
