"""Operations endpoints of the web role (SPEC §7): liveness, readiness and Prometheus metrics.

* `/healthz`: the process answers (no dependency is checked: a load balancer restarts nothing
  because the database is slow);
* `/readyz`: the database, the cache, the broker (when CELERY_BROKER_URL is set) and recognition are
  each checked with a short timeout; 200 when all answer, otherwise 503 naming every failing one
  (each check's error text and time only to a loopback caller or one with the metrics token);
* `/metrics`: Prometheus text format; with METRICS_TOKEN set, callers send it as a bearer token,
  without it only loopback callers are answered.

A loopback caller is one whose client address (read the way NUM_PROXIES says, as the throttles do)
is loopback: behind a proxy on the same host, REMOTE_ADDR is always loopback, so it proves nothing.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.settings import api_settings

from school.api.throttling import client_ip
from school.metrics import ScrapeTimeCollector

logger = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "::1")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was written")
    cache.delete(key)
    if getattr(cache, "degraded", False):  # school.cache: Redis failed, this process serves a local cache
        raise RuntimeError("the shared cache (Redis) does not answer: this process uses its local cache")


def _broker() -> None:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


# Checks of the apps above this one, registered in their AppConfig.ready() (the recognition app adds
# "recognition"), so that the core imports none of them.
_registered_checks: dict[str, Callable[[], None]] = {}


def readiness_check_register(name: str, check: Callable[[], None]) -> None:
    """Adds a dependency to /readyz: `check` raises when the dependency is not usable."""
    _registered_checks[name] = check


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks = {"database": _database, "cache": _cache}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker
    checks.update(_registered_checks)
    return checks


def _from_loopback(request: HttpRequest) -> bool:
    """The caller is on this host: its client address is loopback. Without trusted proxies
    (NUM_PROXIES=0) a request carrying X-Forwarded-For came through a proxy whatever its REMOTE_ADDR
    (a proxy on this host connects from loopback), so it is not a loopback caller either."""
    if not api_settings.NUM_PROXIES and "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    return client_ip(request) in _LOOPBACK


def _has_metrics_token(request: HttpRequest) -> bool:
    if not settings.METRICS_TOKEN:
        return False
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(sent.encode(), settings.METRICS_TOKEN.encode())


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 or 503 with the failing checks' names; their error text (host names, driver messages) and
    times only to operators: a loopback caller or one with the metrics token."""
    results: dict[str, dict[str, object]] = {}
    for name, check in readiness_checks().items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # every failure is reported, whatever its type
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            logger.warning("readiness: %s is failing: %s", name, exc)
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    failing = [name for name, result in results.items() if not result["ok"]]
    body: dict[str, object] = {"status": "unavailable" if failing else "ok", "failing": failing}
    if _from_loopback(request) or _has_metrics_token(request):
        body["checks"] = results
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        if not _has_metrics_token(request):
            return JsonResponse({"error": "Send the metrics token as a bearer token.", "error_code": "UNAUTHORIZED"},
                                status=401)
    elif not _from_loopback(request):
        return JsonResponse({"error": "Metrics are served to loopback callers only unless METRICS_TOKEN is set.",
                             "error_code": "FORBIDDEN"}, status=403)
    import os

    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess


    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # every gunicorn and Celery process's samples
    else:
        registry = CollectorRegistry()
        registry.register(_Everything())  # type: ignore[arg-type]  # a duck-typed collector (collect())
    registry.register(ScrapeTimeCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _Everything:
    """This process's default registry, inside a registry that also has the scrape-time collector."""

    def collect(self) -> object:
        from prometheus_client import REGISTRY

        return REGISTRY.collect()
