"""Safe decoding of untrusted image bytes, shared by every entry point (API uploads, the recognition
HTTP API, commands).

The order of checks matters: the byte cap first (cheap), then the real type from the magic bytes
(never the client's content type or file name), then the pixel count from the header *before* any
pixel is decoded (a 9000x9000 PNG is ~10 KB on the wire and ~243 MB decoded), and only then the decode.

Decoding is bounded by IMAGE_DECODE_MAX_PIXELS, whatever the file: a larger JPEG is decoded at 1/2, 1/4
or 1/8 of its size by the JPEG decoder itself (Pillow's draft mode: the DCT is scaled, the full-size
pixels never exist), so a 48 MP phone photo costs what a 12 MP one does. PNG and WebP cannot be decoded
at a reduced size (their whole image is inflated first), so above the budget they are refused with
IMAGE_TOO_LARGE: a flat 48 MP PNG is 150 KB on the wire and 366 MB decoded. Cameras write JPEG; a PNG
that large is a screenshot of a poster or an attack, not a classroom photo.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from recognition.errors import ErrorCode, InvalidImageError

# Magic bytes of the formats we accept → Pillow's format name.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
SUPPORTED_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (height, width, 3) uint8 RGB, EXIF orientation applied
    format: str  # JPEG, PNG or WEBP
    # The bytes it was decoded from: a remote backend sends them as they are (a re-encoded copy
    # would give slightly different embeddings), so a photo is decoded once per request.
    source: bytes = field(default=b"", repr=False)
    # 1 when decoded at full size, else the JPEG was decoded at 1/scale of its size (the decode budget):
    # the pixels, not `source`, are then the image whose boxes the caller keeps.
    scale: int = 1

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.pixels.shape[1], self.pixels.shape[0]


def sniff_format(data: bytes) -> str | None:
    """The image format the bytes really are (JPEG, PNG, WEBP), or None."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def upload_bytes(upload: Any, *, max_bytes: int | None = None) -> bytes:
    """The bytes of an uploaded file, refused with IMAGE_TOO_LARGE from its size *before* it is read
    (Django spools big uploads to disk; reading one is what brings it into memory)."""
    max_bytes = max_bytes or settings.MAX_UPLOAD_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise InvalidImageError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"The file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.",
            details={"bytes": size, "max_bytes": max_bytes},
        )
    upload.seek(0)
    return upload.read(max_bytes + 1)


def decode_image(data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None) -> DecodedImage:
    """RGB pixels of `data`, or InvalidImageError with INVALID_IMAGE, UNSUPPORTED_IMAGE_TYPE or
    IMAGE_TOO_LARGE. Limits default to settings.MAX_UPLOAD_BYTES and settings.MAX_IMAGE_PIXELS; a JPEG
    above settings.IMAGE_DECODE_MAX_PIXELS is decoded at a reduced size (see the module's docstring)."""
    kind = _check_bytes(data, max_bytes)
    try:
        with warnings.catch_warnings():
            # Our own pixel cap below replaces Pillow's warning-level bomb check.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=[kind])
            scale = _decode_scale(kind, *image.size, max_pixels=max_pixels)
            if scale > 1:
                width, height = image.size
                image.draft(None, (width // scale, height // scale))
            image.load()
            image = _apply_orientation(image)
            pixels = _to_rgb(image)
    except InvalidImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise InvalidImageError(ErrorCode.IMAGE_TOO_LARGE, "The image is too large to decode.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise InvalidImageError(
            ErrorCode.INVALID_IMAGE, f"The {kind} image is corrupt or truncated and cannot be decoded."
        ) from exc
    return DecodedImage(pixels=pixels, format=kind, source=data, scale=scale)


def _check_bytes(data: bytes, max_bytes: int | None) -> str:
    """The checks before any header is read: not empty, not too many bytes, a supported type. Returns
    the type (Pillow's format name)."""
    max_bytes = max_bytes or settings.MAX_UPLOAD_BYTES
    if not data:
        raise InvalidImageError(ErrorCode.INVALID_IMAGE, "The image is empty.")
    if len(data) > max_bytes:
        raise InvalidImageError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"The image is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.",
            details={"bytes": len(data), "max_bytes": max_bytes},
        )
    kind = sniff_format(data)
    if kind is None:
        raise InvalidImageError(
            ErrorCode.UNSUPPORTED_IMAGE_TYPE,
            "The file is not a JPEG, PNG or WebP image.",
            details={"supported": list(SUPPORTED_TYPES)},
        )
    return kind


# The JPEG decoder scales the DCT by these factors only.
_JPEG_SCALES = (1, 2, 4, 8)


def _decode_scale(kind: str, width: int, height: int, *, max_pixels: int | None) -> int:
    """The factor an image of this header is decoded at (1: full size), or IMAGE_TOO_LARGE: above
    `max_pixels` (the cap of what is accepted at all), or above IMAGE_DECODE_MAX_PIXELS where the format
    cannot be decoded smaller (PNG, WebP)."""
    max_pixels = max_pixels or settings.MAX_IMAGE_PIXELS
    if width * height > max_pixels:
        raise InvalidImageError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"The image is {width}x{height} pixels; the limit is {max_pixels / 1e6:.0f} megapixels.",
            details={"width": width, "height": height, "max_pixels": max_pixels},
        )
    if width < 1 or height < 1:
        raise InvalidImageError(ErrorCode.INVALID_IMAGE, "The image has no pixels.")
    budget = int(settings.IMAGE_DECODE_MAX_PIXELS)
    if width * height <= budget:
        return 1
    if kind == "JPEG":
        for scale in _JPEG_SCALES[1:]:
            if math.ceil(width / scale) * math.ceil(height / scale) <= budget:
                return scale
    raise InvalidImageError(
        ErrorCode.IMAGE_TOO_LARGE,
        f"The {kind} image is {width}x{height} pixels; above {budget / 1e6:.0f} megapixels only JPEG photos "
        "are accepted (they are decoded at a reduced size). Send the camera's JPEG, or a smaller image.",
        details={"width": width, "height": height, "max_pixels": budget, "format": kind},
    )


def _apply_orientation(image: Image.Image) -> Image.Image:
    """Phone photos are stored sideways with an EXIF orientation tag: turn the pixels upright."""
    # In place: without an orientation tag, exif_transpose() would return a full copy of the image. A
    # malformed EXIF block leaves the pixels as stored.
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, SyntaxError):
        ImageOps.exif_transpose(image, in_place=True)
    return image


# Pixels are copied out of Pillow this many rows at a time, so a conversion never holds a second
# full-size copy (Image.tobytes() would build the whole image twice: its chunks, then their join).
_STRIP_ROWS = 256
_GRAY_16 = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _to_rgb(image: Image.Image) -> np.ndarray:
    """(height, width, 3) uint8 RGB of a decoded image. Peak memory is Pillow's own image plus the
    3-byte-per-pixel result and one strip: no float64 and no whole-image temporary, whatever the
    mode (a 16-bit grayscale image took ~25 bytes per pixel as float64)."""
    mode = image.mode
    if mode in _GRAY_16 or mode == "F":
        return _gray_to_rgb(image)
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent areas become white, as they look on screen, rather than black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
        del rgba, background
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(height, top + _STRIP_ROWS)
        pixels[top:bottom] = np.asarray(image.crop((0, top, width, bottom)))
    return pixels


def _gray_to_rgb(image: Image.Image) -> np.ndarray:
    """16-bit, 32-bit integer or float grayscale, scaled to 0..255 strip by strip in integers (or
    float32 for mode F). Pillow's convert("RGB") would clip every value above 255 to white."""
    low, high = cast(tuple[float, float], image.getextrema())  # one band (modes I, I;16, F)
    width, height = image.size
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, _STRIP_ROWS):
        bottom = min(height, top + _STRIP_ROWS)
        values = np.asarray(image.crop((0, top, width, bottom)))
        if image.mode == "F":
            span = max(float(high) - float(low), 1e-9)
            gray = ((values.astype(np.float32) - np.float32(low)) * np.float32(255.0 / span)).astype(np.uint8)
        elif high > 255:
            # 0..65535 onto 0..255: v * 255 // 65535 without overflow (values are at most 32-bit).
            gray = (np.clip(values, 0, 65535).astype(np.uint32) * 255 // 65535).astype(np.uint8)
        else:
            gray = np.clip(values, 0, 255).astype(np.uint8)
        pixels[top:bottom] = gray[:, :, None]
    return pixels


def image_to_jpeg(pixels: np.ndarray, *, quality: int = 90) -> bytes:
    """JPEG bytes of RGB pixels (used to store a normalised copy without EXIF or metadata)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def check_image(data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None) -> tuple[int, int]:
    """The checks of `decode_image` that need no pixel: size in bytes, real type, pixel count from the
    header (and the decode budget). For uploads stored now and decoded later by a worker; returns
    (width, height)."""
    kind = _check_bytes(data, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            width, height = Image.open(io.BytesIO(data), formats=[kind]).size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(ErrorCode.INVALID_IMAGE,
                                f"The {kind} image is corrupt or truncated and cannot be decoded.") from exc
    _decode_scale(kind, width, height, max_pixels=max_pixels)
    return width, height
