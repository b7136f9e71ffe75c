"""The real dlib backend, loaded once for the recognition tests."""

from __future__ import annotations

from typing import Any

import pytest

from recognition.backends.local import DlibBackend


@pytest.fixture(scope="session")
def dlib_backend() -> DlibBackend:
    from django.conf import settings

    return DlibBackend(**settings.RECOGNITION["OPTIONS"])


@pytest.fixture(scope="session")
def read(faces: Any) -> Any:
    return lambda relative: (faces / relative).read_bytes()
