"""Server-rendered login and logout."""

from __future__ import annotations

import pytest
from django.test import Client

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


def _fail(client, username, times, path="/accounts/login/", **extra):
    return [client.post(path, {"username": username, "password": "wrong-guess"}, **extra).status_code
            for _ in range(times)]


def test_login_page_locks_a_username_out_after_repeated_wrong_passwords(client, teacher, settings):
    assert _fail(client, teacher.username, settings.AXES_FAILURE_LIMIT - 1) == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = client.post("/accounts/login/", {"username": teacher.username, "password": "wrong-guess"})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert b"Too many failed logins" in locked.content
    # Even the right password is refused while locked out: guessing cannot go on.
    right = client.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD})
    assert right.status_code == 429
    assert client.get("/").status_code == 302


def test_lockout_is_per_username_and_address_so_others_still_log_in(client, teacher, other_teacher, settings):
    _fail(client, teacher.username, settings.AXES_FAILURE_LIMIT)
    # Another account from the same address, and the same account from elsewhere, are not locked.
    other = client.post("/accounts/login/", {"username": other_teacher.username, "password": PASSWORD})
    assert other.status_code == 302
    elsewhere = client.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD},
                            REMOTE_ADDR="10.9.9.9")
    assert elsewhere.status_code == 302


def test_a_successful_login_resets_the_failure_count(client, teacher, settings):
    _fail(client, teacher.username, settings.AXES_FAILURE_LIMIT - 1)
    assert client.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD}).status_code == 302
    client.post("/accounts/logout/")
    assert _fail(client, teacher.username, settings.AXES_FAILURE_LIMIT - 1) == [200] * (settings.AXES_FAILURE_LIMIT - 1)


def test_admin_login_locks_out_too(client, admin_user, settings):
    _fail(client, admin_user.username, settings.AXES_FAILURE_LIMIT, path="/admin/login/")
    response = client.post("/admin/login/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}}


def test_login_posts_are_rate_limited_per_address(client, teacher, other_teacher, settings):
    _rates(settings, auth_address="3/min")
    # Spraying one password over many usernames is not covered by the per-username lockout.
    codes = [client.post("/accounts/login/", {"username": f"user{i}", "password": "x"}).status_code for i in range(3)]
    assert codes == [200, 200, 200]
    refused = client.post("/accounts/login/", {"username": "user9", "password": "x"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert b"Too many requests" in refused.content
    # The admin's login form shares the same budget.
    assert client.post("/admin/login/", {"username": "user9", "password": "x"}).status_code == 429
    # Viewing the login page is not counted.
    assert client.get("/accounts/login/").status_code == 200


def test_one_name_hammered_behind_the_school_nat_leaves_the_others_their_budget(teacher, other_teacher, settings):
    _rates(settings, auth="3/min", auth_address="5/min")
    pupil, colleague = Client(), Client()  # two machines behind the school's one address
    codes = [pupil.post("/accounts/login/", {"username": teacher.username, "password": "guess"}).status_code
             for _ in range(8)]
    assert codes == [200, 200, 200] + [429] * 5
    # The refused tries did not use up the address: another teacher there logs in.
    response = colleague.post("/accounts/login/", {"username": other_teacher.username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_pupil_cannot_lock_the_teacher_out_of_a_device_that_logged_in_before(teacher, settings):
    teachers_laptop, pupils_laptop = Client(), Client()  # both behind the school's NAT: one address
    assert teachers_laptop.post("/accounts/login/", {"username": teacher.username,
                                                     "password": PASSWORD}).status_code == 302
    teachers_laptop.post("/accounts/logout/")
    codes = _fail(pupils_laptop, teacher.username, settings.AXES_FAILURE_LIMIT + 1)
    assert codes[-2:] == [429, 429]  # the pupil is locked out
    assert pupils_laptop.post("/accounts/login/", {"username": teacher.username,
                                                   "password": PASSWORD}).status_code == 429
    # The teacher's laptop is a trusted device of the teacher: not locked by the pupil's guesses.
    assert teachers_laptop.post("/accounts/login/", {"username": teacher.username,
                                                     "password": PASSWORD}).status_code == 302
    # A machine the teacher never used is an untrusted client at that address: locked with the pupil.
    assert Client().post("/accounts/login/", {"username": teacher.username, "password": PASSWORD}).status_code == 429


def test_brute_force_from_a_trusted_device_still_locks_it(teacher, settings):
    laptop = Client()
    assert laptop.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD}).status_code == 302
    laptop.post("/accounts/logout/")
    assert _fail(laptop, teacher.username, settings.AXES_FAILURE_LIMIT)[-1] == 429
    assert laptop.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD}).status_code == 429
    # Counted on the device wherever it goes, not per address.
    assert laptop.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD},
                       REMOTE_ADDR="10.9.9.9").status_code == 429


def test_a_forged_device_cookie_is_an_untrusted_client(teacher, settings):
    from accounts.devices import DEVICE_COOKIE

    _fail(Client(), teacher.username, settings.AXES_FAILURE_LIMIT)
    forger = Client()
    forger.cookies[DEVICE_COOKIE] = "eyJkIjoieCIsImEiOltdfQ:forged:signature"
    assert forger.post("/accounts/login/", {"username": teacher.username, "password": PASSWORD}).status_code == 429
