"""Test data for the people pages: stored faces (with a small photo) and finalised sessions."""

from __future__ import annotations

import datetime
import io
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from PIL import Image

from attendance.models import AttendanceRecord, AttendanceSession
from recognition.models import FaceEmbedding


def jpeg_bytes(colour: tuple[int, int, int] = (200, 150, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def stored_face(student: Any, *, with_photo: bool = True) -> FaceEmbedding:
    """An enrolment row as face_enrol leaves it (the vector is random: these tests never match faces)."""
    face = FaceEmbedding(student=student, model_name="dlib_face_recognition_resnet_model_v1", model_version="1",
                         detector="hog", num_jitters=1, box_top=0, box_right=40, box_bottom=40, box_left=0,
                         face_area_ratio=0.5, image_width=40, image_height=40,
                         content_hash=f"{student.pk}-{FaceEmbedding.objects.count()}")
    face.vector = np.random.default_rng(0).random(128).astype(np.float32).tobytes()
    if with_photo:
        face.source_image.save("face.jpg", ContentFile(jpeg_bytes()), save=False)
    face.save()
    return face


def finalised_session(course: Any, day: datetime.date, statuses: dict[Any, tuple[str, str, float | None]],
                      ) -> AttendanceSession:
    """A finalised session of `course` on `day` with one record per student: (status, source, distance)."""
    session = AttendanceSession.objects.create(course=course, date=day, state=AttendanceSession.State.FINALIZED)
    for student, (status, source, distance) in statuses.items():
        AttendanceRecord.objects.create(session=session, student=student, status=status, source=source,
                                        distance=distance)
    return session
