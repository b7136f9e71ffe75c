from __future__ import annotations

from collections.abc import Iterator

from django.apps import AppConfig
from prometheus_client.core import GaugeMetricFamily


class RecognitionConfig(AppConfig):
    name = "recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.consent import biometric_holder_register

        # Imported for its side effect: connects the setting_changed receiver that resets the cached backend.
        from recognition import backends  # noqa: F401
        from recognition.services import face_embeddings_erase
        from school import health, metrics

        health.readiness_check_register("recognition", recognition_ready)
        metrics.scrape_gauge_register(breaker_gauge)
        biometric_holder_register(face_embeddings_erase)


def recognition_ready() -> None:
    """/readyz: the configured backend (local model or remote service) answers healthy."""
    from recognition.backends import get_backend

    health = get_backend().health()
    if not health.ok:
        raise RuntimeError(health.details.get("message") or health.details.get("error_code") or "unhealthy")


def breaker_gauge() -> Iterator[GaugeMetricFamily]:
    """/metrics: the remote backend's shared circuit breaker (nothing with the local backend)."""
    from recognition.backends import get_backend
    from school.metrics import breaker_state_value

    breaker = getattr(get_backend(), "breaker", None)
    if breaker is not None:
        gauge = GaugeMetricFamily("recognition_breaker_state",
                                  "Remote recognition circuit breaker: 0 closed, 1 half-open, 2 open.")
        gauge.add_metric([], breaker_state_value(breaker.current_state))
        yield gauge
