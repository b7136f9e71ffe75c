"""The configured recognition backend, built once and cached (like django.core.mail.get_connection)."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from recognition.backends.base import RecognitionBackend

_lock = threading.Lock()
_backend: RecognitionBackend | None = None


def build_backend(config: dict[str, Any] | None = None) -> RecognitionBackend:
    """A new backend instance from a RECOGNITION-style dict (default: settings.RECOGNITION)."""
    config = config if config is not None else settings.RECOGNITION
    path = config.get("BACKEND")
    if not path:
        raise ImproperlyConfigured("RECOGNITION['BACKEND'] is not set")
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"RECOGNITION['BACKEND'] = {path!r} cannot be imported: {exc}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, RecognitionBackend)):
        raise ImproperlyConfigured(f"{path} is not a RecognitionBackend")
    return backend_class(**config.get("OPTIONS", {}))


def get_backend() -> RecognitionBackend:
    """The configured backend, built on first use and then shared by every caller."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = build_backend()
    return _backend


@receiver(setting_changed)
def _reset_backend(*, setting: str, **kwargs: Any) -> None:
    # override_settings(RECOGNITION=...) in tests must take effect on the next get_backend().
    global _backend
    if setting == "RECOGNITION":
        _backend = None
