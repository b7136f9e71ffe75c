"""dlib's model, loaded once per process, and the lock every dlib call takes.

A leaf of the engine: the local backend and the detectors both use it, so neither imports the other.
`face_recognition` (and with it dlib) is imported on first use only: a web process with the remote
backend never loads it."""

from __future__ import annotations

import threading
import warnings
from typing import Any

from PIL import ImageFile

from recognition.errors import ErrorCode, RecognitionUnavailable

_import_lock = threading.Lock()
# dlib's models (the shared HOG detector, landmark predictor and ResNet encoder) keep scratch buffers
# in the model objects: two threads of one process using them at once corrupt memory (the process
# aborted under 6 concurrent self check-ins in a threaded server, benchmarks/live.py). One dlib call
# at a time per process; processes (gunicorn workers) still run in parallel.
DLIB_LOCK = threading.RLock()
_api: Any = None


def load_face_recognition() -> Any:
    """`face_recognition.api`, imported on first use.

    face_recognition calls quit() when its model package is missing, which would end the whole
    web process: that SystemExit is turned into a clear MODEL_UNAVAILABLE error instead."""
    global _api
    if _api is None:
        with _import_lock:
            if _api is None:
                try:
                    with warnings.catch_warnings():
                        # face_recognition_models uses pkg_resources, which warns at every start.
                        warnings.simplefilter("ignore", UserWarning)
                        import face_recognition_models  # noqa: F401  (checked first for a clear message)
                except ImportError as exc:
                    raise RecognitionUnavailable(
                        "The face model package face_recognition_models is not installed.",
                        error_code=ErrorCode.MODEL_UNAVAILABLE,
                    ) from exc
                truncated = ImageFile.LOAD_TRUNCATED_IMAGES
                try:
                    from face_recognition import api
                except (ImportError, SystemExit, RuntimeError) as exc:
                    raise RecognitionUnavailable(
                        f"The face recognition library cannot be loaded: {exc!r}",
                        error_code=ErrorCode.MODEL_UNAVAILABLE,
                    ) from exc
                # face_recognition makes Pillow accept truncated files silently (grey filler) at
                # import; our decoder must refuse them, so the setting is put back.
                ImageFile.LOAD_TRUNCATED_IMAGES = truncated
                _api = api
    return _api
