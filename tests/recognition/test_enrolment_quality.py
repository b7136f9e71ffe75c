"""Enrolment checks itself (issue 18): every enrolment path refuses a face turned away, tilted, blurred
or lit from one side, with its own error code and what to fix; a good photo is enrolled. Real photos
from ../shared/faces through the real dlib model."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFilter

from recognition.errors import ErrorCode, FaceQualityError
from recognition.models import FaceEmbedding
from recognition.quality import MAX_ROLL_DEGREES, MAX_YAW_DEGREES
from recognition.services import face_enrol
from tests import factories
from tests.recognition.conftest import ReadPhoto

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def turned_further(dlib_backend: Any, data: bytes, shift: float) -> bytes:
    """The photo with the face's middle moved sideways by `shift` face widths (one cheek squeezed, the
    other stretched): what the camera sees when the head turns further the same way."""
    box = dlib_backend.encode_face(data, num_jitters=1).box
    pixels = np.asarray(opened(data))
    width = pixels.shape[1]
    middle = (box.left + box.right) / 2
    source_x = np.interp(np.arange(width), [0, box.left, middle + shift * box.width, box.right, width - 1],
                         [0, box.left, middle, box.right, width - 1])
    return jpeg(Image.fromarray(pixels[:, np.clip(np.round(source_x).astype(int), 0, width - 1)]))


def half_in_shadow(dlib_backend: Any, data: bytes, light: float) -> bytes:
    box = dlib_backend.encode_face(data, num_jitters=1).box
    pixels = np.asarray(opened(data)).astype(np.float64)
    gain = np.ones(pixels.shape[1])
    middle = (box.left + box.right) // 2
    gain[middle:] = light
    return jpeg(Image.fromarray((pixels * gain[None, :, None]).clip(0, 255).astype(np.uint8)))


def tilted_photo(data: bytes) -> Image.Image:
    """The head leaning 30° toward a shoulder (the photo turned in its plane, the frame kept)."""
    return opened(data).rotate(30, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))


@pytest.fixture
def student(teacher: Any) -> Any:
    return factories.StudentFactory(created_by=teacher)


def refusal(student: Any, teacher: Any, image: bytes) -> FaceQualityError:
    with pytest.raises(FaceQualityError) as refused:
        face_enrol(student=student, image=image, by=teacher)
    assert not FaceEmbedding.objects.filter(student=student).exists()
    return refused.value


def test_a_good_front_photo_and_a_slight_turn_are_enrolled(student: Any, teacher: Any, read: ReadPhoto,
                                                           dlib_backend: Any) -> None:
    face_enrol(student=student, image=read("people/obama/obama.jpg"), by=teacher)
    slight = dlib_backend.face_pose(read("people/obama/obama2.jpg"))
    assert 15 < abs(slight.yaw) < MAX_YAW_DEGREES  # turned a little: welcome variety
    face_enrol(student=student, image=read("people/obama/obama2.jpg"), by=teacher)
    assert FaceEmbedding.objects.filter(student=student).count() == 2


@pytest.mark.parametrize(("photo", "shift"), [("people/kit_harington/john2.jpeg", -0.3), ("probes/obama1.jpg", 0.3)])
def test_a_face_turned_away_is_refused_with_turn_to_face_the_camera(student: Any, teacher: Any, read: ReadPhoto,
                                                                     dlib_backend: Any, photo: str,
                                                                     shift: float) -> None:
    original = read(photo)
    assert abs(dlib_backend.face_pose(original).yaw) < MAX_YAW_DEGREES
    refused = refusal(student, teacher, turned_further(dlib_backend, original, shift))
    assert refused.error_code == ErrorCode.FACE_TURNED
    assert "Turn to face the camera" in refused.message
    assert abs(refused.details["yaw"]) > MAX_YAW_DEGREES


def test_a_head_tilted_to_the_shoulder_is_refused_with_hold_your_head_straight(student: Any, teacher: Any,
                                                                                 read: ReadPhoto) -> None:
    tilted = tilted_photo(read("people/obama/obama.jpg"))
    refused = refusal(student, teacher, jpeg(tilted))
    assert refused.error_code == ErrorCode.FACE_TILTED and "Hold your head straight" in refused.message
    assert abs(refused.details["roll"]) > MAX_ROLL_DEGREES


def test_a_blurred_photo_is_refused_as_blurred(student: Any, teacher: Any, read: ReadPhoto) -> None:
    blurred = opened(read("people/rose_leslie/img2.jpg")).filter(ImageFilter.GaussianBlur(8))
    refused = refusal(student, teacher, jpeg(blurred))
    assert refused.error_code == ErrorCode.FACE_BLURRY and "in focus" in refused.message


def test_a_face_half_in_shadow_is_refused_as_unevenly_lit(student: Any, teacher: Any, read: ReadPhoto,
                                                          dlib_backend: Any) -> None:
    refused = refusal(student, teacher, half_in_shadow(dlib_backend, read("people/obama/obama.jpg"), 0.3))
    assert refused.error_code == ErrorCode.FACE_UNEVENLY_LIT and "Face the light" in refused.message


def test_the_api_and_the_page_refuse_a_turned_face_with_its_code(student: Any, teacher: Any, teacher_api: Any,
                                                                 client_for: Any, read: ReadPhoto,
                                                                 dlib_backend: Any) -> None:
    turned = turned_further(dlib_backend, read("people/kit_harington/john2.jpeg"), -0.3)
    answer = teacher_api.post(reverse("student-faces", args=[student.pk]),
                              {"image": SimpleUploadedFile("t.jpg", turned, "image/jpeg")}, format="multipart")
    assert answer.status_code == 422 and answer.json()["error_code"] == ErrorCode.FACE_TURNED
    page = client_for(teacher).post(reverse("student-face-enrol", args=[student.pk]),
                                    {"image": SimpleUploadedFile("t.jpg", turned, "image/jpeg")}, follow=True)
    assert "Turn to face the camera" in page.content.decode()
    assert not FaceEmbedding.objects.filter(student=student).exists()


def test_a_student_enrolling_themself_gets_the_same_gate(read: ReadPhoto, dlib_backend: Any) -> None:
    user = factories.StudentUserFactory()
    profile = factories.StudentFactory(user=user)
    tilted = tilted_photo(read("people/obama/obama.jpg"))
    refused = refusal(profile, user, jpeg(tilted))
    assert refused.error_code == ErrorCode.FACE_TILTED
