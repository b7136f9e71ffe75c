"""The cache as the README advises it (REDIS_URL) with Redis dead: every user of the cache degrades to
this process's local cache (school/cache.py) instead of raising; /readyz names the cache as failing."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from school import cache as school_cache
from school import metrics
from school.api.throttling import LoginThrottle, first_refusal
from school.models import OutboxMessage
from school.outbox import SERVER_DOWN_KEY, _send_after_commit, outbox_add, outbox_send_due
from tests.stack import Redis, free_port

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "smart_attendance" / "settings.py"


def product_caches(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> dict[str, Any]:
    """CACHES exactly as smart_attendance/settings.py makes them from REDIS_URL."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("CACHE_URL", raising=False)
    return runpy.run_path(str(SETTINGS_FILE))["CACHES"]


@pytest.fixture
def dead_redis_cache(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CACHES = product_caches(monkeypatch, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens


def fallbacks() -> float:
    return sum(sample.value for metric in metrics.CACHE_FALLBACKS.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


@pytest.mark.django_db
def test_with_redis_dead_the_throttles_the_outbox_flag_and_the_breaker_work_per_process(
        dead_redis_cache: None, settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    before = fallbacks()
    caplog.set_level(logging.INFO, logger="school.cache")
    # The login throttle counts in this process: allowed up to its rate, then refused.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "auth": "3/min"}}
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9")
    answers = [first_refusal(request, [LoginThrottle]) for _ in range(4)]
    assert answers[:3] == [None, None, None] and answers[3] is not None and answers[3] >= 1

    # The outbox: a failing mail server sets the server-down flag, and the request path reads it.
    settings.EMAIL_BACKEND = "tests.school.mail_backends.FailingSMTPBackend"
    message = outbox_add(to="guardian@example.org", kind="absence", subject="Absence", body="Absent today.")
    assert message is not None
    assert outbox_send_due(ids=[message.pk])["failed"] == 1
    assert cache.get(SERVER_DOWN_KEY) is True
    _send_after_commit(message.pk)  # the inline path skips sending while the flag is up
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1

    # The recognition breaker keeps its state locally: it still opens.
    from recognition.backends.breaker import SharedBreaker
    from recognition.errors import RecognitionUnavailable

    breaker = SharedBreaker("dead-redis-test", threshold=2, reset_seconds=60)

    def failing() -> None:
        raise ConnectionError("the recognition service is down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(failing)
    assert breaker.current_state == "open"
    with pytest.raises(RecognitionUnavailable):
        breaker.call(failing)

    assert fallbacks() > before  # counted
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "local cache" in r.getMessage()]
    assert len(warnings) == 1  # logged once, not on every call


def test_readiness_names_the_dead_shared_cache(dead_redis_cache: None, client: Any, settings: Any,
                                               db: None) -> None:
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "cache" in response.json()["failing"]


def test_the_fallback_ends_when_redis_answers_again(settings: Any, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    redis = Redis(tmp_path)
    redis.start()
    try:
        settings.CACHES = product_caches(monkeypatch, f"{redis.url}/0")
        monkeypatch.setattr(school_cache, "RETRY_SECONDS", 0.2)
        caplog.set_level(logging.INFO, logger="school.cache")
        cache.set("shared", "in redis")
        redis.kill()
        assert cache.get("shared") is None and cache.add("guard", 1) is True  # local, nothing raised
        assert cache.degraded
        redis.start()
        import time

        deadline = time.monotonic() + 10
        while cache.degraded and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cache.add("guard", 1) is True  # Redis again: the local guard is not consulted
        assert not cache.degraded
        assert any("answers again" in record.getMessage() for record in caplog.records)
    finally:
        redis.stop()
