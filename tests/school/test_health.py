"""Liveness, readiness (each failing dependency named), metrics and JSON logs (SPEC §7)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.recognition.servers import django_server, free_port_url
from tests.stack import free_port

pytestmark = pytest.mark.django_db


def _redis_cache(url: str) -> dict[str, Any]:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


def test_liveness_answers_without_checking_anything(client: Any, settings: Any) -> None:
    settings.CACHES = _redis_cache(f"redis://127.0.0.1:{free_port()}/0")  # a dead cache changes nothing
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.stack
def test_readiness_reports_each_failing_dependency(client: Any, settings: Any) -> None:
    settings.CACHES = _redis_cache(f"redis://127.0.0.1:{free_port()}/0")
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.RECOGNITION = {"BACKEND": "recognition.backends.remote.HTTPBackend",
                            "OPTIONS": {"URL": free_port_url(), "MAX_RETRIES": 0}}
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert body["failing"] == ["cache", "broker", "recognition"]
    assert body["checks"]["database"]["ok"] is True
    assert all(body["checks"][name]["error"] for name in body["failing"])


@pytest.mark.stack
def test_readiness_is_ok_when_every_dependency_answers(client: Any, settings: Any, redis_url: str) -> None:
    settings.CACHES = _redis_cache(f"{redis_url}/2")
    settings.CELERY_BROKER_URL = f"{redis_url}/0"
    settings.RECOGNITION_API_KEY = "k"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.ROOT_URLCONF = "tests.stack_urls"
    with django_server() as service:
        settings.RECOGNITION = {"BACKEND": "recognition.backends.remote.HTTPBackend",
                                "OPTIONS": {"URL": service, "API_KEY": "k"}}
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["failing"] == [] and set(response.json()["checks"]) == {
        "database", "cache", "broker", "recognition"}


def test_metrics_are_served_to_loopback_or_with_the_token(client: Any, settings: Any, teacher_api: Any,
                                                          enrolled_class: Any) -> None:
    session = teacher_api.post(f"/api/v1/courses/{enrolled_class.course.pk}/sessions/", {"date": "2026-11-23"},
                               format="json").json()
    teacher_api.post(f"/api/v1/sessions/{session['id']}/photos/",
                     {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart")
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'attendance_photos_processed_total{outcome="done"}' in text
    assert "attendance_faces_per_photo_bucket" in text and "django_http_requests_latency_seconds" in text
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_json_logs_carry_the_request_id(capsys: Any) -> None:
    from django.conf import settings
    from django.utils.log import configure_logging

    from school.middleware import request_id_bound

    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    configure_logging(settings.LOGGING_CONFIG, config)
    try:
        with request_id_bound("req-7"):
            logging.getLogger("attendance.test").warning("photo %s queued", 12)
    finally:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    line = [row for row in capsys.readouterr().err.splitlines() if "queued" in row][-1]
    record = json.loads(line)
    assert record["message"] == "photo 12 queued" and record["request_id"] == "req-7"
    assert record["level"] == "WARNING" and record["logger"] == "attendance.test"


def _behind_proxies(settings: Any, count: int) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def test_metrics_refuse_a_request_a_same_host_proxy_forwarded_for_a_public_address(client: Any,
                                                                                   settings: Any) -> None:
    _behind_proxies(settings, 1)
    # The proxy on this host connects from loopback; the client it forwarded for is public.
    forwarded = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forwarded.status_code == 403 and b"process_" not in forwarded.content
    # A scraper on this host, through the proxy or straight to the app, is still answered.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_without_trusted_proxies_a_forwarded_request_is_not_a_loopback_caller(client: Any, settings: Any) -> None:
    _behind_proxies(settings, 0)
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403


@pytest.fixture
def failing_check(monkeypatch: Any) -> None:
    from school import health

    def database_of_the_district() -> None:
        raise ConnectionError("could not connect to db-internal.school.lan:5432 as attendance")

    monkeypatch.setitem(health._registered_checks, "district", database_of_the_district)


@pytest.mark.usefixtures("failing_check")
def test_readiness_tells_the_public_only_which_checks_fail(client: Any, settings: Any) -> None:
    _behind_proxies(settings, 1)
    response = client.get("/readyz", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["district"]}
    assert b"db-internal" not in response.content


@pytest.mark.usefixtures("failing_check")
def test_readiness_details_go_to_loopback_and_to_the_metrics_token(client: Any, settings: Any) -> None:
    local = client.get("/readyz", REMOTE_ADDR="127.0.0.1").json()
    assert "db-internal.school.lan" in local["checks"]["district"]["error"]
    assert local["checks"]["database"]["ok"] is True
    settings.METRICS_TOKEN = "s3cret"
    assert "checks" not in client.get("/readyz", REMOTE_ADDR="10.1.2.3").json()
    with_token = client.get("/readyz", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret").json()
    assert "db-internal.school.lan" in with_token["checks"]["district"]["error"]
