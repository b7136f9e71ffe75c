"""Safe decoding of untrusted image bytes, shared by every entry point (API uploads, the recognition
HTTP API, commands).

The order of checks matters: the byte cap first (cheap), then the real type from the magic bytes
(never the client's content type or file name), then the pixel count from the header *before* any
pixel is decoded (a 9000x9000 PNG is ~10 KB on the wire and ~243 MB decoded), and only then the decode.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from recognition.backends.base import ErrorCode, InvalidImageError

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


def decode_image(data: bytes, *, max_bytes: int | None = None, max_pixels: int | None = None) -> DecodedImage:
    """RGB pixels of `data`, or InvalidImageError with INVALID_IMAGE, UNSUPPORTED_IMAGE_TYPE or
    IMAGE_TOO_LARGE. Limits default to settings.MAX_UPLOAD_BYTES and settings.MAX_IMAGE_PIXELS."""
    max_bytes = max_bytes or settings.MAX_UPLOAD_BYTES
    max_pixels = max_pixels or settings.MAX_IMAGE_PIXELS
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
    try:
        with warnings.catch_warnings():
            # Our own pixel cap below replaces Pillow's warning-level bomb check.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImageError(
                    ErrorCode.IMAGE_TOO_LARGE,
                    f"The image is {width}x{height} pixels; the limit is {max_pixels / 1e6:.0f} megapixels.",
                    details={"width": width, "height": height, "max_pixels": max_pixels},
                )
            if width < 1 or height < 1:
                raise InvalidImageError(ErrorCode.INVALID_IMAGE, "The image has no pixels.")
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
    return DecodedImage(pixels=pixels, format=kind, source=data)


def _apply_orientation(image: Image.Image) -> Image.Image:
    """Phone photos are stored sideways with an EXIF orientation tag: turn the pixels upright."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, TypeError, KeyError, SyntaxError):
        return image  # a malformed EXIF block: keep the pixels as stored


def _to_rgb(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grayscale: Pillow's convert("RGB") would clip every value above 255 to white.
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        gray = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        span = max(values.max(initial=0) - values.min(initial=0), 1e-9)
        gray = ((values - values.min(initial=0)) * (255.0 / span)).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent areas become white, as they look on screen, rather than black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def image_to_jpeg(pixels: np.ndarray, *, quality: int = 90) -> bytes:
    """JPEG bytes of RGB pixels (used to store a normalised copy without EXIF or metadata)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
