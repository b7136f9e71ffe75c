"""The real dlib backend, loaded once for the recognition tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from recognition.backends.local import DlibBackend

ReadPhoto = Callable[[str], bytes]
"""The `read` fixture: `read("people/obama/obama.jpg")` is that photo's bytes from ../shared/faces."""


@pytest.fixture(scope="session")
def dlib_backend() -> DlibBackend:
    from django.conf import settings

    return DlibBackend(**settings.RECOGNITION["OPTIONS"])


@pytest.fixture(scope="session")
def read(faces: Path) -> ReadPhoto:
    def read_photo(relative: str) -> bytes:
        return (faces / relative).read_bytes()

    return read_photo
