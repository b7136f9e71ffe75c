"""Safe decoding: every bad image gets its own error code, and odd formats decode correctly."""

from __future__ import annotations

import io
import time
from typing import Any, cast

import numpy as np
import pytest
from PIL import Image

from recognition.errors import ErrorCode, InvalidImageError
from recognition.images import decode_image, sniff_format


def encode(image: Image.Image, fmt: str, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def code_of(data: bytes, **kwargs: Any) -> str:
    with pytest.raises(InvalidImageError) as caught:
        decode_image(data, **kwargs)
    return caught.value.error_code


def test_empty_bytes_are_invalid() -> None:
    assert code_of(b"") == ErrorCode.INVALID_IMAGE


def test_text_or_random_bytes_are_not_an_image_type() -> None:
    assert code_of(b"hello, this is not a photo") == ErrorCode.UNSUPPORTED_IMAGE_TYPE
    assert code_of(np.random.default_rng(1).bytes(5000)) == ErrorCode.UNSUPPORTED_IMAGE_TYPE


def test_gif_and_bmp_are_unsupported_types() -> None:
    small = Image.new("RGB", (10, 10), "red")
    assert code_of(encode(small, "GIF")) == ErrorCode.UNSUPPORTED_IMAGE_TYPE
    assert code_of(encode(small, "BMP")) == ErrorCode.UNSUPPORTED_IMAGE_TYPE


def test_a_truncated_jpeg_is_invalid(faces: Any) -> None:
    from recognition.backends.local import load_face_recognition

    load_face_recognition()  # face_recognition turns on Pillow's silent acceptance of truncated files
    data = (faces / "people/obama/obama.jpg").read_bytes()
    assert code_of(data[: len(data) // 3]) == ErrorCode.INVALID_IMAGE


def test_a_png_with_a_garbage_body_is_invalid() -> None:
    data = encode(Image.new("RGB", (64, 64), "blue"), "PNG")
    corrupt = data[:40] + bytes(b ^ 0x5A for b in data[40:-12]) + data[-12:]
    assert code_of(corrupt) == ErrorCode.INVALID_IMAGE


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")  # ~50 KB on the wire, 1.2 GB as RGB
    assert len(bomb) < 100_000
    started = time.perf_counter()
    assert code_of(bomb) == ErrorCode.IMAGE_TOO_LARGE
    assert time.perf_counter() - started < 5  # refused before decoding (decoding takes far longer)


def test_the_pixel_and_byte_caps_are_configurable(faces: Any) -> None:
    data = (faces / "people/obama/obama.jpg").read_bytes()
    assert code_of(data, max_pixels=1_000_000) == ErrorCode.IMAGE_TOO_LARGE  # 910x1137 = 1.03 MP
    assert code_of(data, max_bytes=1000) == ErrorCode.IMAGE_TOO_LARGE
    assert decode_image(data, max_pixels=1_100_000).size == (910, 1137)


def test_16_bit_grayscale_keeps_its_contrast() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256, dtype=np.uint16), (16, 1))
    data = encode(Image.fromarray(ramp), "PNG")  # a uint16 array is mode I;16
    pixels = decode_image(data).pixels
    assert pixels.shape == (16, 256, 3)
    assert pixels[0, 0, 0] == 0 and pixels[0, -1, 0] == 255 and 120 < pixels[0, 128, 0] < 135


def test_transparent_and_palette_images_become_rgb_on_white() -> None:
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    assert decode_image(encode(rgba, "PNG")).pixels[0, 0].tolist() == [255, 255, 255]
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0] * 256)
    assert decode_image(encode(palette, "PNG", transparency=0)).pixels[0, 0].tolist() == [255, 255, 255]
    grey = Image.new("L", (20, 20), 77)
    assert decode_image(encode(grey, "PNG")).pixels[0, 0].tolist() == [77, 77, 77]


def test_webp_is_supported_and_sniffed_by_its_bytes() -> None:
    data = encode(Image.new("RGB", (30, 20), (10, 200, 30)), "WEBP", lossless=True)
    assert sniff_format(data) == "WEBP"
    decoded = decode_image(data)
    assert decoded.format == "WEBP" and decoded.size == (30, 20)


def test_the_file_name_and_claimed_type_do_not_matter(faces: Any) -> None:
    png = (faces / "edge/obama_32bit.png").read_bytes()
    assert decode_image(png).format == "PNG"  # whatever the upload claimed


def _traced_peak(data: bytes) -> tuple[np.ndarray, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        pixels = decode_image(data).pixels
        return pixels, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_16_bit_png_bomb_decodes_without_float64_copies() -> None:
    # A small file of 16-bit pixels: 4000x4000 zeros with one white dot (the bomb, smaller).
    values = np.zeros((4000, 4000), dtype=np.uint16)
    values[10, 10] = 65535
    data = encode(Image.fromarray(values), "PNG")
    del values
    assert len(data) < 200_000
    pixels, peak = _traced_peak(data)
    assert pixels.shape == (4000, 4000, 3) and pixels[10, 10].tolist() == [255, 255, 255] and pixels[0, 0, 0] == 0
    # The RGB result is 3 bytes per pixel (48 MB); float64 conversion peaked above 25 bytes per pixel.
    assert peak < 4 * 4000 * 4000, f"{peak / 1e6:.0f} MB"


def test_a_large_rgb_photo_is_converted_without_a_second_full_copy(faces: Any) -> None:
    photo = Image.open(faces / "people/obama/obama.jpg").convert("RGB").resize((4000, 3000))
    data = encode(photo, "JPEG", quality=80)
    pixels, peak = _traced_peak(data)
    assert pixels.shape == (3000, 4000, 3)
    # Only the 36 MB result and a strip; Image.tobytes() would have held the pixels twice over.
    assert peak < 1.3 * 3 * 4000 * 3000, f"{peak / 1e6:.0f} MB"



# --- the decode budget (IMAGE_DECODE_MAX_PIXELS): large images in bounded memory ----------------------

_PEAK_SCRIPT = """
import json, resource, sys
from pathlib import Path
from recognition.images import decode_image

data = Path(sys.argv[1]).read_bytes()

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)

try:
    Path("/proc/self/clear_refs").write_text("5")  # the peak mark starts again from here
    baseline, peak = status("VmRSS"), lambda: status("VmHWM")
except OSError:
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
decoded = decode_image(data, max_bytes=len(data))
print(json.dumps({"size": decoded.size, "scale": getattr(decoded, "scale", 1), "bytes": peak() - baseline}))
"""


def _decode_in_a_fresh_process(path: Any) -> dict[str, Any]:
    """Decodes the file in a new Python process and returns the size, the scale and the peak memory
    (RSS) the decoding added: Pillow's pixels are outside tracemalloc's view, the process's are not."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "IMAGE_DECODE_MAX_PIXELS": "24000000", "MAX_IMAGE_PIXELS": "48000000",
           "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(path)], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return cast(dict[str, Any], json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_flat_48_megapixel_png_is_refused_before_a_pixel_is_decoded(settings: Any) -> None:
    from recognition.images import check_image

    settings.MAX_IMAGE_PIXELS, settings.IMAGE_DECODE_MAX_PIXELS = 48_000_000, 24_000_000
    data = encode(Image.new("RGB", (8000, 6000), (120, 130, 140)), "PNG")  # ~150 kB; 366 MB once decoded
    assert len(data) < 200_000
    with pytest.raises(InvalidImageError) as caught:
        decode_image(data)
    error = caught.value
    assert error.error_code == ErrorCode.IMAGE_TOO_LARGE and "JPEG" in str(error)
    assert error.details == {"width": 8000, "height": 6000, "max_pixels": 24_000_000, "format": "PNG"}
    # The queued upload path refuses it at the upload, not later in the worker.
    with pytest.raises(InvalidImageError) as queued:
        check_image(data)
    assert queued.value.error_code == ErrorCode.IMAGE_TOO_LARGE
    # Within the budget a PNG is still decoded at full size.
    settings.IMAGE_DECODE_MAX_PIXELS = 48_000_000
    assert check_image(data) == (8000, 6000)


def test_a_48_megapixel_jpeg_is_decoded_at_half_size_in_bounded_memory(faces: Any, tmp_path: Any) -> None:
    path = tmp_path / "phone-48mp.jpg"
    Image.open(faces / "people/obama/obama.jpg").convert("RGB").resize((8000, 6000)).save(path, quality=85)
    result = _decode_in_a_fresh_process(path)
    # 12 MP decoded: Pillow's 48 MB and the 36 MB RGB array. At full size it took ~380 MB (Pillow's
    # 192 MB, a copy by exif_transpose, the 144 MB array).
    assert result["bytes"] < 150 * 1024 * 1024, f"{result['bytes'] / 2**20:.0f} MB"
    assert result["size"] == [4000, 3000] and result["scale"] == 2


def test_photos_within_the_budget_decode_as_before_with_the_same_embeddings(faces: Any, manifest: Any) -> None:
    """Nothing changes for the photos of ../shared/faces and a 12 MP phone photo: the pixels are Pillow's
    plain decode, upright, and the embeddings the same within 1e-6."""
    from PIL import ImageOps

    from recognition.backends import get_backend
    from recognition.images import DecodedImage
    from tests import scenes

    backend = get_backend()
    photos = [faces / "people/obama/obama.jpg", faces / "probes/obama_and_biden.jpg",
              faces / "groups/bald_guys.jpg", faces / "edge/obama_32bit.png"]
    phone = scenes.phone_photo(faces).jpeg(90)
    for name, data in [*((p.name, p.read_bytes()) for p in photos), ("phone-12mp", phone)]:
        decoded = decode_image(data)
        plain = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        if plain.mode in ("RGBA", "LA", "P"):
            plain = Image.alpha_composite(Image.new("RGBA", plain.size, "white"), plain.convert("RGBA"))
        expected = np.asarray(plain.convert("RGB"))
        assert decoded.scale == 1 and np.array_equal(decoded.pixels, expected), name
        ours = backend.detect_faces(decoded).faces
        theirs = backend.detect_faces(DecodedImage(pixels=expected, format=decoded.format)).faces
        assert ours and len(ours) == len(theirs), name
        for mine, reference in zip(ours, theirs, strict=True):
            assert mine.box == reference.box
            assert np.abs(mine.embedding - reference.embedding).max() < 1e-6, name
