"""A password change revokes every JWT issued before it (issue 9 item 10)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def login(username: str, password: str = PASSWORD) -> dict[str, str]:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_stolen_tokens_die_when_the_password_changes_through_the_api(teacher: Any, admin_api: Any) -> None:
    stolen = login(teacher.username)
    assert bearer(stolen["access"]).get("/api/v1/me/").status_code == 200
    assert admin_api.patch(f"/api/v1/users/{teacher.pk}/", {"password": NEW_PASSWORD}, format="json").status_code == 200

    assert bearer(stolen["access"]).get("/api/v1/me/").status_code == 401
    refreshed = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": stolen["refresh"]}, format="json")
    assert refreshed.status_code == 401, refreshed.content
    assert refreshed.json()["error_code"]
    verified = APIClient().post("/api/v1/auth/token/verify/", {"token": stolen["access"]}, format="json")
    assert verified.status_code == 401

    fresh = login(teacher.username, NEW_PASSWORD)  # the owner logs in again and carries on
    assert bearer(fresh["access"]).get("/api/v1/me/").status_code == 200
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": fresh["refresh"]},
                            format="json").status_code == 200


def test_a_password_changed_outside_the_api_revokes_too(teacher: Any) -> None:
    stolen = login(teacher.username)
    teacher.set_password(NEW_PASSWORD)  # e.g. the Django admin, `changepassword`, a reset page
    teacher.save()
    assert bearer(stolen["access"]).get("/api/v1/me/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": stolen["refresh"]},
                            format="json").status_code == 401


def test_tokens_of_a_deleted_user_are_refused_cleanly(teacher: Any) -> None:
    stolen = login(teacher.username)
    teacher.delete()
    response = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": stolen["refresh"]}, format="json")
    assert response.status_code == 401


def test_other_changes_keep_tokens_valid(teacher: Any, admin_api: Any) -> None:
    tokens = login(teacher.username)
    admin_api.patch(f"/api/v1/users/{teacher.pk}/", {"first_name": "Renamed"}, format="json")
    assert bearer(tokens["access"]).get("/api/v1/me/").status_code == 200


def test_changepassword_command_is_covered(teacher: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stolen = login(teacher.username)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", teacher.username, stdout=io.StringIO())
    assert bearer(stolen["access"]).get("/api/v1/me/").status_code == 401
