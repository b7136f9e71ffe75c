"""Face detectors by name, each built once and shared (like `recognition.backends.get_backend`).

`RECOGNITION_DETECTOR` names the default one (settings.RECOGNITION["OPTIONS"]["DETECTOR"]); the
recognition API's `model` field may name another. "auto" is YuNet where its wheel installs (x86-64
Linux and Windows) and HOG elsewhere.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from recognition.detectors.base import FaceDetector, Located

DETECTORS = {
    "yunet": "recognition.detectors.yunet.YuNetDetector",
    "hog": "recognition.detectors.dlib_detectors.HOGDetector",
    "cnn": "recognition.detectors.dlib_detectors.CNNDetector",
}
NAMES = (*DETECTORS, "auto")

_lock = threading.Lock()
_detectors: dict[tuple[str, tuple[tuple[str, Any], ...]], FaceDetector] = {}


def resolve(name: str) -> str:
    """The detector a name stands for: "auto" becomes yunet where it is installed, else hog."""
    if name == "auto":
        from recognition.detectors.yunet import available

        return "yunet" if available() else "hog"
    if name not in DETECTORS:
        raise ImproperlyConfigured(f"Unknown face detector {name!r}; choose one of {', '.join(NAMES)}.")
    return name


def get_detector(name: str, **options: Any) -> FaceDetector:
    """The detector called `name` built with `options`, built once per (name, options)."""
    name = resolve(name)
    key = (name, tuple(sorted(options.items())))
    detector = _detectors.get(key)
    if detector is None:
        with _lock:
            detector = _detectors.get(key)
            if detector is None:
                detector = _detectors[key] = import_string(DETECTORS[name])(**options)
    return detector


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "RECOGNITION":
        _detectors.clear()


__all__ = ["DETECTORS", "NAMES", "FaceDetector", "Located", "get_detector", "resolve"]
