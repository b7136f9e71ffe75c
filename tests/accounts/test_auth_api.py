"""JWT lifecycle: obtain, rotate, verify, logout (blacklist) and the misuse of each token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def obtain(client: APIClient, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_token_pair_is_issued_for_valid_credentials(teacher, anonymous_api):
    response = obtain(anonymous_api, teacher.username)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_wrong_password_is_refused_with_error_code(teacher, anonymous_api):
    response = obtain(anonymous_api, teacher.username, "wrong")
    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTHENTICATION_FAILED"


def test_access_token_authenticates_me(teacher, anonymous_api):
    access = obtain(anonymous_api, teacher.username).json()["access"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = anonymous_api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == teacher.username
    assert response.json()["role"] == "teacher"


def test_refresh_rotates_and_old_refresh_is_refused(teacher, anonymous_api):
    refresh = obtain(anonymous_api, teacher.username).json()["refresh"]
    rotated = anonymous_api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != refresh
    assert "access" in rotated.json()
    again = anonymous_api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert again.status_code == 401
    assert again.json()["error_code"] == "TOKEN_INVALID"


def test_logout_blacklists_refresh_token(teacher, anonymous_api):
    refresh = obtain(anonymous_api, teacher.username).json()["refresh"]
    logout = anonymous_api.post("/api/v1/auth/logout/", {"refresh": refresh}, format="json")
    assert logout.status_code == 204
    refused = anonymous_api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "TOKEN_INVALID"


def test_access_token_cannot_be_used_as_refresh_token(teacher, anonymous_api):
    access = obtain(anonymous_api, teacher.username).json()["access"]
    response = anonymous_api.post("/api/v1/auth/token/refresh/", {"refresh": access}, format="json")
    assert response.status_code == 401
    assert response.json()["error_code"] == "TOKEN_INVALID"


def test_refresh_token_cannot_be_used_as_access_token(teacher, anonymous_api):
    refresh = obtain(anonymous_api, teacher.username).json()["refresh"]
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")
    response = anonymous_api.get("/api/v1/me/")
    assert response.status_code == 401


def test_verify_accepts_valid_and_refuses_garbage(teacher, anonymous_api):
    access = obtain(anonymous_api, teacher.username).json()["access"]
    assert anonymous_api.post("/api/v1/auth/token/verify/", {"token": access}, format="json").status_code == 200
    bad = anonymous_api.post("/api/v1/auth/token/verify/", {"token": "not.a.token"}, format="json")
    assert bad.status_code == 401
    assert bad.json()["error_code"] == "TOKEN_INVALID"


def test_logout_without_refresh_is_a_validation_error(anonymous_api):
    response = anonymous_api.post("/api/v1/auth/logout/", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert "refresh" in body["details"]


def test_login_is_rate_limited(settings, teacher, anonymous_api):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}
    from django.core.cache import cache

    cache.clear()
    codes = [obtain(anonymous_api, teacher.username, "wrong").status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
    cache.clear()


def test_me_requires_authentication(anonymous_api):
    response = anonymous_api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error_code"] == "NOT_AUTHENTICATED"


def _auth_rate(settings, rate):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "auth": rate}}


def test_a_forged_forwarded_for_header_does_not_escape_the_login_throttle(settings, teacher, anonymous_api):
    _auth_rate(settings, "3/min")
    codes = [anonymous_api.post("/api/v1/auth/token/", {"username": teacher.username, "password": "wrong"},
                                format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings, teacher, anonymous_api):
    _auth_rate(settings, "2/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def attempt(forwarded_for):
        return anonymous_api.post("/api/v1/auth/token/", {"username": teacher.username, "password": "wrong"},
                                  format="json", HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    # What the client wrote before the proxy's entry is ignored; the proxy's entry is the identity.
    assert [attempt("1.1.1.1, 198.51.100.7"), attempt("2.2.2.2, 198.51.100.7"),
            attempt("3.3.3.3, 198.51.100.7")] == [401, 401, 429]
    assert attempt("1.1.1.1, 198.51.100.8") == 401


def test_token_endpoint_locks_a_username_out_with_429_and_retry_after(settings, teacher, anonymous_api):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert obtain(anonymous_api, teacher.username, "wrong").status_code == 401
    assert obtain(anonymous_api, teacher.username, "wrong").status_code == 429  # the limit reached
    response = obtain(anonymous_api, teacher.username)  # the right password, too late
    assert response.status_code == 429
    assert response.json()["error_code"] == "RATE_LIMITED"
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    # The lock is per username and address: the same login from another address still works.
    assert anonymous_api.post("/api/v1/auth/token/", {"username": teacher.username, "password": PASSWORD},
                              format="json", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_a_pupil_cannot_lock_the_teachers_app_out_of_the_token_endpoint(settings, teacher):
    teachers_phone, pupils_phone = APIClient(), APIClient()  # one NAT address
    assert obtain(teachers_phone, teacher.username).status_code == 200
    codes = [obtain(pupils_phone, teacher.username, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert codes[-1] == 429 and obtain(pupils_phone, teacher.username).status_code == 429
    # The app kept the device cookie of its login: it still gets tokens.
    assert obtain(teachers_phone, teacher.username).status_code == 200
