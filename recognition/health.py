"""The recognition engine's part of /readyz and /metrics (registered with the core in RecognitionConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from recognition.backends import get_backend
from school.metrics import breaker_state_value


def recognition_ready() -> None:
    """/readyz: the configured backend (local model or remote service) answers healthy."""
    health = get_backend().health()
    if not health.ok:
        raise RuntimeError(health.details.get("message") or health.details.get("error_code") or "unhealthy")


def breaker_gauge() -> Iterator[GaugeMetricFamily]:
    """/metrics: the remote backend's shared circuit breaker (nothing with the local backend)."""
    breaker = getattr(get_backend(), "breaker", None)
    if breaker is not None:
        gauge = GaugeMetricFamily("recognition_breaker_state",
                                  "Remote recognition circuit breaker: 0 closed, 1 half-open, 2 open.")
        gauge.add_metric([], breaker_state_value(breaker.current_state))
        yield gauge
