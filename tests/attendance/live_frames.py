"""Live-mode webcam frames (1280x720) composed from the real photos of ../shared/faces.

Each frame is a different scene (its own seed: seats, background noise), as consecutive webcam
frames differ; the people in it are chosen per test."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests import scenes

FRAME_SIZE = (1280, 720)


@functools.cache
def frame_scene(faces: Path, people: tuple[str, ...], seed: int,
                moves: tuple[tuple[str, int, int], ...] = ()) -> scenes.Scene:
    """A 1280x720 classroom frame: two rows of five (faces 56 and 72 px), `people` in the front row
    or the back row alternately, strangers elsewhere. `moves` ((person, dx, dy), ...) shifts people
    from their seats: the same seed with other moves is the same class a moment later."""
    rows = {person: index % 2 for index, person in enumerate(people)}
    return scenes.classroom(faces, name=f"live-{seed}", size=FRAME_SIZE, row_face_widths=[56, 72], per_row=5,
                            seed=seed, known_rows=rows, blur=0.4,
                            offsets={person: (dx, dy) for person, dx, dy in moves})


@functools.cache
def frame_jpeg(faces: Path, people: tuple[str, ...], seed: int) -> bytes:
    return frame_scene(faces, people, seed).jpeg(quality=85)


def frame_upload(faces: Path, people: tuple[str, ...], seed: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"frame-{seed}.jpg", frame_jpeg(faces, people, seed), content_type="image/jpeg")


def post_frame(api: Any, session_id: int, faces: Path, people: tuple[str, ...], seed: int) -> Any:
    return api.post(f"/api/v1/sessions/{session_id}/live/frames/", {"image": frame_upload(faces, people, seed)},
                    format="multipart")


def tiny_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 130, 140)).save(buffer, format="JPEG")
    return buffer.getvalue()
