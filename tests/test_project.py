"""Project-wide checks: deploy settings, configuration errors, OpenAPI schema, admin, error shape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory, TeacherFactory

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Kq9v2LmP4tR8wZ3nB6cF1hJ5sD0gY-production-like-secret-for-the-check",
    "ALLOWED_HOSTS": "attendance.school.example",
    "CSRF_TRUSTED_ORIGINS": "https://attendance.school.example",
    "SECURE_HSTS_PRELOAD": "true",
    "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
    "SITE_URL": "https://attendance.school.example",
}


def test_check_deploy_reports_nothing_with_production_like_environment():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DEBUG", "maybe", "DEBUG must be true or false"),
    ("EMAIL_PORT", "twenty-five", "EMAIL_PORT must be a int"),
    ("RECOGNITION_DETECTOR", "magic", "RECOGNITION_DETECTOR must be one of"),
    ("SERVICE_ROLE", "everything", "SERVICE_ROLE must be one of"),
    ("SECRET_KEY", "", "SECRET_KEY must be set"),
])
def test_bad_configuration_fails_at_start_with_a_clear_message(name, value, message):
    result = run_manage("check", **{**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    result = run_manage("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"),
                        **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/courses/{id}/enrollments/" in schema


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_every_admin_changelist_loads(client, admin_user):
    course = CourseFactory()
    EnrollmentFactory(course=course, student=StudentFactory())
    client.force_login(admin_user)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        searched = client.get(url, {"q": "x"})
        assert searched.status_code == 200, url


@pytest.mark.django_db
def test_validation_errors_share_one_json_shape(teacher_api):
    response = teacher_api.post("/api/v1/courses/", {"code": ""}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert isinstance(body["message"], str)
    assert set(body["details"]) == {"name", "code"}


@pytest.mark.django_db
def test_malformed_json_is_a_clear_error(teacher_api):
    response = teacher_api.generic("POST", "/api/v1/courses/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"


@pytest.mark.django_db
def test_unknown_object_is_404_with_error_code(teacher_api):
    response = teacher_api.get("/api/v1/courses/999999/")
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_request_id_is_echoed_or_made(client):
    given = client.get("/api/schema/", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    made = client.get("/api/schema/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert made["X-Request-ID"] != "bad id with spaces" and len(made["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_createsuperuser_makes_an_admin():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("root", "root@school.example", "pw-123456789")
    assert user.role == "admin"
    assert user.is_school_admin


@pytest.mark.django_db
def test_teacher_creates_course_they_teach_even_if_naming_another(teacher_api, teacher):
    someone_else = TeacherFactory()
    response = teacher_api.post("/api/v1/courses/", {"name": "Art", "code": "ART-1", "teacher": someone_else.pk},
                                format="json")
    assert response.status_code == 201
    assert response.json()["teacher"] == teacher.pk


@pytest.mark.django_db
def test_admin_assigns_any_teacher(admin_api):
    chosen = TeacherFactory()
    response = admin_api.post("/api/v1/courses/", {"name": "Art", "code": "ART-2", "teacher": chosen.pk},
                              format="json")
    assert response.status_code == 201
    assert response.json()["teacher"] == chosen.pk


@pytest.mark.django_db
def test_duplicate_course_code_is_a_conflict(teacher_api):
    CourseFactory(code="DUP-1")
    response = teacher_api.post("/api/v1/courses/", {"name": "Again", "code": "DUP-1"}, format="json")
    assert response.status_code == 409 and response.json()["error_code"] == "ALREADY_EXISTS"
    assert "code" in response.json()["details"]


def settings_value(expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Evaluates `expression` on the settings module loaded from a fresh environment."""
    return run_manage("shell", "-c", f"from django.conf import settings; print({expression})", **env)


def test_a_shared_cache_is_used_when_redis_url_is_set():
    # Throttle counters must be shared by every worker process: REDIS_URL selects Redis.
    result = settings_value("settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']",
                            **PRODUCTION_ENV, REDIS_URL="redis://cache.internal:6379/1")
    assert result.returncode == 0, result.stderr
    # Django's Redis cache, falling back to the process's memory while Redis is down (school/cache.py).
    assert "school.cache.FallbackRedisCache" in result.stdout
    assert "redis://cache.internal:6379/1" in result.stdout
    local = settings_value("settings.CACHES['default']['BACKEND']", **PRODUCTION_ENV)
    assert "LocMemCache" in local.stdout


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PHOTO_UPLOAD_THROTTLE_RATE", "lots", "PHOTO_UPLOAD_THROTTLE_RATE must be a rate"),
    ("NUM_PROXIES", "-1", "NUM_PROXIES=-1 is outside"),
    ("RECOGNITION_API_ON_WEB", "true", "RECOGNITION_API_ON_WEB=true needs RECOGNITION_API_KEY"),
    ("CHECKIN_NETWORKS", "10.20.0.0/16,the-school", "CHECKIN_NETWORKS: 'the-school' is not an address range"),
    ("CHECKIN_SCAN_SECONDS", "5", "CHECKIN_SCAN_SECONDS=5 is outside"),
])
def test_bad_abuse_settings_fail_at_start(name, value, message):
    result = run_manage("check", **{**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_recognition_service_refuses_to_start_without_a_key():
    result = run_manage("check", **PRODUCTION_ENV, SERVICE_ROLE="recognition")
    assert result.returncode != 0
    assert "RECOGNITION_API_KEY must be set for SERVICE_ROLE=recognition" in result.stderr
    keyed = run_manage("check", **PRODUCTION_ENV, SERVICE_ROLE="recognition", RECOGNITION_API_KEY="k" * 32)
    assert keyed.returncode == 0, keyed.stderr
    # Development keeps working without one.
    assert run_manage("check", **{**PRODUCTION_ENV, "SERVICE_ROLE": "recognition", "DEBUG": "true"}).returncode == 0


def test_check_deploy_is_clean_with_a_shared_cache():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV,
                        REDIS_URL="redis://cache:6379/0")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_api_docs_load_swagger_ui_from_our_own_static_files(client):
    from django.contrib.staticfiles import finders

    html = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # The file the page names is really there (offline, nothing else to fetch).
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.mark.django_db
def test_admin_bookmarks_of_models_moved_to_school_still_land(client: Any, admin_user: Any) -> None:
    """The re-layering moved five models to the `school` app: their old admin addresses redirect."""
    client.force_login(admin_user)
    response = client.get("/admin/classes/term/?o=1")
    assert response.status_code == 301 and response["Location"] == "/admin/school/term/?o=1"
    response = client.get("/admin/attendance/outboxmessage/7/change/")
    assert response.status_code == 301 and response["Location"] == "/admin/school/outboxmessage/7/change/"
    assert client.get("/admin/school/term/").status_code == 200
    assert client.get("/admin/attendance/attendancesession/").status_code == 200  # not moved: not redirected
