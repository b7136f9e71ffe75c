"""The enrolment quality gate, calibrated on ../shared/faces (recognition/quality.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageEnhance, ImageFilter

from recognition.errors import ErrorCode, FaceQualityError
from recognition.images import decode_image
from recognition.quality import MAX_BRIGHTNESS, MIN_BRIGHTNESS, MIN_SHARPNESS, check_face_quality

pytestmark = pytest.mark.slow

ENROLMENT_PHOTOS = ["people/alex_lacamoire/img1.jpg", "people/biden/biden.jpg", "people/biden/biden2.jpg",
                    "people/kit_harington/john2.jpeg", "people/obama/obama.jpg", "people/obama/obama2.jpg",
                    "people/rose_leslie/img1.jpg", "people/rose_leslie/img2.jpg"]


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def gate(dlib_backend: Any, data: bytes) -> Any:
    encoded = dlib_backend.encode_face(data)
    return check_face_quality(decode_image(data).pixels, encoded.box)


@pytest.mark.parametrize("photo", ENROLMENT_PHOTOS)
def test_every_sample_enrolment_photo_passes_with_a_margin(dlib_backend: Any, read: Any, photo: str) -> None:
    quality = gate(dlib_backend, read(photo))
    assert quality.sharpness > 3 * MIN_SHARPNESS
    assert MIN_BRIGHTNESS + 50 < quality.brightness < MAX_BRIGHTNESS - 50


@pytest.mark.parametrize(("change", "code"), [
    (lambda image: image.filter(ImageFilter.GaussianBlur(6)), ErrorCode.FACE_BLURRY),
    (lambda image: ImageEnhance.Brightness(image).enhance(0.25), ErrorCode.FACE_TOO_DARK),
    (lambda image: ImageEnhance.Brightness(image).enhance(2.6), ErrorCode.FACE_TOO_BRIGHT),
    (lambda image: image.resize((image.width // 2, image.height // 2)), ErrorCode.FACE_TOO_SMALL),
])
def test_degraded_photos_are_refused_with_their_reason(dlib_backend: Any, read: Any, change: Any, code: str) -> None:
    original = Image.open(io.BytesIO(read("edge/obama_small.jpg"))).convert("RGB")  # a 111 px face
    with pytest.raises(FaceQualityError) as caught:
        gate(dlib_backend, jpeg(change(original)))
    assert caught.value.error_code == code  # the detector still finds the face: the gate says what is wrong
    assert caught.value.message and caught.value.details["face_width"] > 0
