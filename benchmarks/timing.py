"""What the benchmark scripts share: timing a call (median of several runs), and a throw-away
Django project (SQLite and media in a temporary folder) for the end-to-end ones."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def median_ms(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of `repeat` calls of `action`, in milliseconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def throwaway_project(prefix: str, **environment: str) -> Path:
    """Sets Django up on a fresh SQLite database and media folder in a temporary directory, with
    `environment` added to the process's (e.g. a throttle lifted for a single benchmark user), and
    migrates it. Returns the directory."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update({"DJANGO_SETTINGS_MODULE": "smart_attendance.settings", "DEBUG": "true",
                       "SECRET_KEY": "benchmark-only-" + "x" * 40, "VAR_DIR": str(workdir),
                       "MEDIA_ROOT": str(workdir / "media"), "LOG_LEVEL": "WARNING", **environment})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    return workdir
