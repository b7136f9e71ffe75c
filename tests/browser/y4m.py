"""A raw YUV4MPEG2 video for Chromium's fake camera (--use-file-for-fake-video-capture), written at
test time from RGB frames: the header, then each frame as full-resolution Y and 2x2-averaged Cb and Cr
planes (4:2:0, JPEG full-range coefficients, as `C420jpeg` says)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def rgb_to_i420(rgb: np.ndarray) -> bytes:
    """One (height, width, 3) uint8 RGB frame (even sizes) as I420 bytes."""
    pixels = rgb.astype(np.float32)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    blue_diff = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
    red_diff = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue

    def quarter(plane: np.ndarray) -> np.ndarray:
        height, width = plane.shape
        return plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    planes = [luma, quarter(blue_diff), quarter(red_diff)]
    return b"".join(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes() for plane in planes)


def write_y4m(path: Path, frames: Iterable[np.ndarray], *, fps: int) -> Path:
    """Writes `frames` (RGB, all the same even size) as a y4m video played at `fps` frames a second."""
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in (first, *frames):
            if frame.shape[:2] != (height, width):
                raise ValueError("every frame of a y4m video has the same size")
            out.write(b"FRAME\n")
            out.write(rgb_to_i420(frame))
    return path
