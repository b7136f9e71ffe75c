"""The remote backend's circuit breaker (pybreaker) with its state in Django's cache, so that with
a shared cache (Redis) every gunicorn and Celery process calling the same service sees one breaker
(see `recognition.backends.remote`)."""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import pybreaker
from django.core.cache import caches

from recognition.errors import RecognitionError, RecognitionUnavailable

logger = logging.getLogger(__name__)


class DjangoCacheStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's state (closed/open/half-open, failure count, opening time) in Django's cache.

    With a shared cache (CACHE_URL=redis://...) every process that calls the same service shares one
    breaker; with the default per-process cache each process has its own. A cache that fails is
    logged and read as "closed, no failures" (the breaker then protects nothing, but calls go on)."""

    def __init__(self, namespace: str) -> None:
        super().__init__("django-cache")
        self._prefix = f"recognition-breaker:{hashlib.sha256(namespace.encode()).hexdigest()[:16]}:"

    def _get(self, key: str, default: Any) -> Any:
        try:
            value = caches["default"].get(self._prefix + key)
        except Exception:
            logger.warning("breaker state unreadable from the cache", exc_info=True)
            return default
        return default if value is None else value

    def _set(self, key: str, value: Any) -> None:
        try:
            caches["default"].set(self._prefix + key, value, timeout=None)
        except Exception:
            logger.warning("breaker state not written to the cache", exc_info=True)

    def _increment(self, key: str) -> None:
        cache = caches["default"]
        try:
            cache.add(self._prefix + key, 0, timeout=None)
            cache.incr(self._prefix + key)
        except ValueError:  # evicted between add and incr
            self._set(key, 1)
        except Exception:
            logger.warning("breaker counter not written to the cache", exc_info=True)

    @property
    def state(self) -> str:
        return str(self._get("state", pybreaker.STATE_CLOSED))

    @state.setter
    def state(self, state: str) -> None:
        self._set("state", str(state))

    def increment_counter(self) -> None:
        self._increment("failures")

    def reset_counter(self) -> None:
        self._set("failures", 0)

    def increment_success_counter(self) -> None:
        self._increment("successes")

    def reset_success_counter(self) -> None:
        self._set("successes", 0)

    @property
    def counter(self) -> int:
        return int(self._get("failures", 0))

    @property
    def success_counter(self) -> int:
        return int(self._get("successes", 0))

    @property
    def opened_at(self) -> datetime.datetime | None:
        timestamp = self._get("opened_at", None)
        return None if timestamp is None else datetime.datetime.fromtimestamp(float(timestamp), tz=datetime.UTC)

    @opened_at.setter
    def opened_at(self, when: datetime.datetime) -> None:
        self._set("opened_at", when.timestamp())


def _is_an_answer(exc: BaseException) -> bool:
    # A refusal (no face, bad image, bad key) means the service is up: it does not count as a failure.
    return isinstance(exc, RecognitionError) and not exc.retryable


class SharedBreaker:
    """The remote backend's circuit breaker: pybreaker with its state in the Django cache."""

    def __init__(self, namespace: str, threshold: int = 5, reset_seconds: float = 60.0) -> None:
        self.reset_seconds = reset_seconds
        self.storage = DjangoCacheStorage(namespace)
        self.breaker = pybreaker.CircuitBreaker(fail_max=threshold, reset_timeout=reset_seconds,
                                                state_storage=self.storage, exclude=[_is_an_answer],
                                                throw_new_error_on_trip=False, name=namespace)

    def _open_for(self) -> float:
        opened_at = self.storage.opened_at
        return 0.0 if opened_at is None else time.time() - opened_at.timestamp()

    @property
    def current_state(self) -> str:
        """closed, open, or half-open (open, and the reset time has passed: the next call is a trial)."""
        state = self.storage.state
        if state == pybreaker.STATE_OPEN and self._open_for() >= self.reset_seconds:
            return pybreaker.STATE_HALF_OPEN
        return state

    state = current_state

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return self.breaker.call(function, *args)
        except pybreaker.CircuitBreakerError:
            retry_after = max(1, round(self.reset_seconds - self._open_for()))
            raise RecognitionUnavailable("The recognition service is failing; calls are paused for a while.",
                                         retry_after=retry_after, details={"breaker": "open"}) from None
