"""Prometheus metrics of the product (SPEC §7), exported at /metrics by `school.health`.

Request latency and counts come from django-prometheus's middleware; the domain's own metrics are
defined here with prometheus_client. With PROMETHEUS_MULTIPROC_DIR set (gunicorn workers and Celery
workers on one machine, as `scripts/stack` runs them) every process writes its samples there and
/metrics adds them up. The breaker's state and the queue's depth are read when scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

PHOTOS_PROCESSED = Counter("attendance_photos_processed_total", "Classroom photos processed, by outcome.",
                           ["outcome"])
FACES_PER_PHOTO = Histogram("attendance_faces_per_photo", "Faces found on a processed classroom photo.",
                            buckets=(0, 1, 2, 5, 10, 20, 30, 40, 60, 80))
UPLOAD_TO_APPLIED = Histogram("attendance_photo_upload_to_applied_seconds",
                              "From a photo's upload to its records applied.",
                              buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 900, 3600))
PHOTO_CLAIMS_RELEASED = Counter("attendance_photo_claims_released_total",
                                "Photos queued again because their worker stopped refreshing its claim (it died).")
TASK_RETRIES = Counter("attendance_task_retries_total", "Celery task retries, by task.", ["task"])
RECOGNITION_LATENCY = Histogram("recognition_remote_call_seconds",
                                "Remote recognition calls (retries included), by operation.", ["operation"],
                                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 45, 60))
RECOGNITION_ERRORS = Counter("recognition_remote_errors_total", "Failed remote recognition calls, by error code.",
                             ["operation", "error_code"])
CACHE_FALLBACKS = Counter("cache_fallback_total",
                          "Cache operations served by the process's local cache because the shared cache (Redis) "
                          "failed, by operation.", ["operation"])

_BREAKER_STATES = {"closed": 0.0, "half-open": 1.0, "open": 2.0}


def photo_processed(*, faces: int, upload_to_applied_seconds: float | None) -> None:
    PHOTOS_PROCESSED.labels(outcome="done").inc()
    FACES_PER_PHOTO.observe(faces)
    if upload_to_applied_seconds is not None:
        UPLOAD_TO_APPLIED.observe(upload_to_applied_seconds)


def photo_failed(*, error_code: str) -> None:
    PHOTOS_PROCESSED.labels(outcome="failed").inc()


def cache_fallback(*, operation: str) -> None:
    CACHE_FALLBACKS.labels(operation=operation).inc()


# Gauges read when /metrics is scraped, from the apps above this one (each registers its own in its
# AppConfig.ready(): the recognition app the remote backend's breaker), so this module imports none of them.
ScrapeGauge = Callable[[], Iterator[GaugeMetricFamily]]
_scrape_gauges: list[ScrapeGauge] = []


def scrape_gauge_register(gauge: ScrapeGauge) -> None:
    if gauge not in _scrape_gauges:
        _scrape_gauges.append(gauge)


def breaker_state_value(state: str) -> float:
    return _BREAKER_STATES.get(state, 0.0)


class ScrapeTimeCollector(Collector):
    """Values read when /metrics is scraped: the registered gauges, the Celery queue's depth."""

    def collect(self) -> Iterator[Any]:
        from django.conf import settings

        for registered in _scrape_gauges:
            yield from registered()
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            depth = _queue_depth(settings.CELERY_BROKER_URL)
            if depth is not None:
                gauge = GaugeMetricFamily("celery_queue_depth", "Tasks waiting in the Celery queue.", labels=["queue"])
                gauge.add_metric(["celery"], depth)
                yield gauge


def _queue_depth(url: str) -> int | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return int(client.llen("celery"))
        finally:
            client.close()
    except redis.RedisError:
        logger.warning("queue depth unavailable: the broker does not answer")
        return None
