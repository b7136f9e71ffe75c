"""Server-rendered login and logout."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders_with_csrf(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content and b'name="password"' in response.content


def test_anonymous_dashboard_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_teacher_logs_in_and_out(client, teacher):
    response = client.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_an_error(client, teacher):
    response = client.post("/accounts/login/", {"username": teacher.username, "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
