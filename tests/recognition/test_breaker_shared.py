"""The remote backend's circuit breaker is shared by processes through the configured cache (Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from recognition.backends.remote import HTTPBackend
from recognition.errors import RecognitionUnavailable
from tests.recognition.servers import Script, stub_server
from tests.stack import ROOT

pytestmark = pytest.mark.stack

OPEN_THE_BREAKER = """
import django, sys
django.setup()
from recognition.errors import RecognitionUnavailable
from recognition.backends.remote import HTTPBackend
backend = HTTPBackend(URL=sys.argv[1], MAX_RETRIES=0, BREAKER_THRESHOLD=2, BREAKER_RESET_SECONDS=30)
for _ in range(2):
    try:
        backend.model_info()
    except RecognitionUnavailable:
        pass
print(backend.breaker.state)
"""


def _redis_cache(url: str) -> dict[str, Any]:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def test_a_breaker_opened_by_one_process_stops_the_calls_of_another(redis_url: str, settings: Any,
                                                                     faces: Any) -> None:
    cache_url = f"{redis_url}/3"
    settings.CACHES = _redis_cache(cache_url)
    failing = json.dumps({"success": False, "error": "down", "error_code": "RECOGNITION_UNAVAILABLE"}).encode()
    script = Script([(503, failing)] * 10)
    with stub_server(script) as url:
        other = subprocess.run(
            [sys.executable, "-c", OPEN_THE_BREAKER, url], cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "smart_attendance.settings", "CACHE_URL": cache_url,
                 "SECRET_KEY": "test-only"})
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == "open" and len(script.hits) == 2

        here = HTTPBackend(URL=url, MAX_RETRIES=0, BREAKER_THRESHOLD=2, BREAKER_RESET_SECONDS=30)
        assert here.breaker.state == "open"
        with pytest.raises(RecognitionUnavailable) as caught:
            here.detect_faces((faces / "probes/obama1.jpg").read_bytes())
    assert caught.value.details == {"breaker": "open"} and 1 <= caught.value.retry_after <= 30
    assert len(script.hits) == 2  # this process never touched the failing service


def test_with_the_per_process_cache_each_process_has_its_own_breaker(settings: Any) -> None:
    # The default cache (locmem) is per process: another process's failures are not seen here.
    failing = json.dumps({"success": False, "error": "down", "error_code": "RECOGNITION_UNAVAILABLE"}).encode()
    script = Script([(503, failing)] * 2 + [(200, b'{"status": "ok", "model": "m"}')])
    with stub_server(script) as url:
        other = subprocess.run(
            [sys.executable, "-c", OPEN_THE_BREAKER, url], cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "smart_attendance.settings", "SECRET_KEY": "test-only"})
        assert other.stdout.strip() == "open", other.stderr
        here = HTTPBackend(URL=url, MAX_RETRIES=0, BREAKER_THRESHOLD=2, BREAKER_RESET_SECONDS=30)
        assert here.breaker.state == "closed"
        assert here.model_info().name == "m"
