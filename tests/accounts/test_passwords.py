"""Password reset by e-mail and password change, pages and API, end to end through the outbox and
Django's locmem mailbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from tests.conftest import api_client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-pass-phrase-42"
LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/(?P<uid>[^/]+)/(?P<token>[^/]+)/)")


def _reset_mail(client: Any, email: str, capture: Any) -> re.Match:
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post("/accounts/password/reset/", {"email": email})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    match = LINK.search(mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match


def test_login_page_links_to_the_reset_page(client):
    assert b'href="/accounts/password/reset/"' in client.get("/accounts/login/").content


def test_reset_by_email_sets_a_new_password_and_the_link_works_once(
        client, teacher, django_capture_on_commit_callbacks):
    link = _reset_mail(client, teacher.email, django_capture_on_commit_callbacks)
    # Django moves the token into the session and redirects to the set-password form.
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"] is True
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                                         "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD) and not teacher.check_password(PASSWORD)
    # The same link again: refused (the token hashed the old password).
    again = client.get(link.group(1), follow=True)
    assert again.context["validlink"] is False
    assert b"invalid, expired or already used" in again.content
    login = client.post("/accounts/login/", {"username": teacher.username, "password": NEW_PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/"


def test_reset_mail_goes_through_the_outbox(client, teacher, django_capture_on_commit_callbacks):
    from school.models import OutboxMessage

    _reset_mail(client, teacher.email, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get(to=teacher.email)
    assert message.kind == "account" and message.status == "sent"


def test_unknown_address_gets_the_same_answer_and_no_mail(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "nobody@school.example"})
    assert response.status_code == 302 and mail.outbox == []


def test_tampered_token_is_refused(client, teacher, django_capture_on_commit_callbacks):
    link = _reset_mail(client, teacher.email, django_capture_on_commit_callbacks)
    tampered = f"/accounts/reset/{link.group('uid')}/{link.group('token')[:-2]}xx/"
    assert client.get(tampered, follow=True).context["validlink"] is False


def test_expired_token_is_refused(client, teacher, settings, django_capture_on_commit_callbacks):
    link = _reset_mail(client, teacher.email, django_capture_on_commit_callbacks)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is now older than the timeout
    assert client.get(link.group(1), follow=True).context["validlink"] is False


def test_change_password_page_requires_the_old_password(client, teacher):
    client.force_login(teacher)
    assert b'href="/accounts/password/change/"' in client.get("/").content
    wrong = client.post("/accounts/password/change/", {"old_password": "not-it", "new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert wrong.status_code == 200 and b"incorrectly" in wrong.content
    teacher.refresh_from_db()
    assert teacher.check_password(PASSWORD)
    right = client.post("/accounts/password/change/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert right.status_code == 302 and right["Location"] == "/accounts/password/change/done/"
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)
    assert client.get("/").status_code == 200  # still logged in after the change


def test_change_password_page_needs_a_login(client):
    assert client.get("/accounts/password/change/")["Location"].startswith("/accounts/login/")


# --- API ---------------------------------------------------------------------------------------

def test_api_reset_then_confirm_once(teacher, django_capture_on_commit_callbacks):
    api = api_client_for(None)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/auth/password/reset/", {"email": teacher.email}, format="json")
    assert response.status_code == 202
    link = LINK.search(mail.outbox[0].body)
    body = {"uid": link.group("uid"), "token": link.group("token"), "new_password": NEW_PASSWORD}
    assert api.post("/api/v1/auth/password/reset/confirm/", body, format="json").status_code == 204
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)
    again = api.post("/api/v1/auth/password/reset/confirm/", {**body, "new_password": "yet-another-pass-77"},
                     format="json")
    assert again.status_code == 400 and again.json()["error_code"] == "RESET_LINK_INVALID"


def test_api_reset_unknown_address_is_202_without_mail(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(None).post("/api/v1/auth/password/reset/", {"email": "x@y.example"},
                                             format="json")
    assert response.status_code == 202 and mail.outbox == []


@pytest.mark.parametrize("uid, token", [("bm9wZQ", "abc-def"), ("!!", "x"), ("MQ", "1-2")])
def test_api_confirm_with_a_bad_link_is_refused(teacher, uid, token):
    response = api_client_for(None).post("/api/v1/auth/password/reset/confirm/",
                                         {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 400 and response.json()["error_code"] == "RESET_LINK_INVALID"
    teacher.refresh_from_db()
    assert teacher.check_password(PASSWORD)


def test_api_confirm_refuses_a_weak_password(teacher):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    body = {"uid": urlsafe_base64_encode(force_bytes(teacher.pk)),
            "token": default_token_generator.make_token(teacher), "new_password": "123"}
    response = api_client_for(None).post("/api/v1/auth/password/reset/confirm/", body, format="json")
    assert response.status_code == 400 and response.json()["error_code"] == "PASSWORD_REJECTED"
    assert "new_password" in response.json()["details"]


def test_api_change_requires_the_old_password(teacher):
    api = api_client_for(teacher)
    wrong = api.post("/api/v1/auth/password/change/", {"old_password": "nope", "new_password": NEW_PASSWORD},
                     format="json")
    assert wrong.status_code == 400 and "old_password" in wrong.json()["details"]
    right = api.post("/api/v1/auth/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                     format="json")
    assert right.status_code == 204, right.json()
    teacher.refresh_from_db()
    assert teacher.check_password(NEW_PASSWORD)


def test_api_change_needs_a_login():
    response = api_client_for(None).post("/api/v1/auth/password/change/",
                                         {"old_password": "a", "new_password": "b"}, format="json")
    assert response.status_code == 401


def test_api_reset_is_throttled_like_login(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "auth": "2/min"}}
    api = api_client_for(None)
    codes = [api.post("/api/v1/auth/password/reset/", {"email": "a@b.example"}, format="json").status_code
             for _ in range(3)]
    assert codes == [202, 202, 429]
    page = api.post("/accounts/password/reset/", {"email": "a@b.example"})
    assert page.status_code == 429 and int(page["Retry-After"]) > 0


def test_student_lands_on_their_own_page_after_login(client, student_user):
    response = client.post("/accounts/login/", {"username": student_user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/"


def test_the_link_leaves_the_outbox_once_sent(client, teacher, django_capture_on_commit_callbacks):
    from school.models import OutboxMessage

    link = _reset_mail(client, teacher.email, django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get(to=teacher.email)
    assert message.status == "sent" and link.group("token") not in message.body
    assert link.group("token") in mail.outbox[0].body  # the e-mail itself had it


def test_tokens_issued_before_a_password_change_or_reset_stop_working(teacher):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode
    from rest_framework.test import APIClient

    def bearer():
        tokens = APIClient().post("/api/v1/auth/token/", {"username": teacher.username, "password": password},
                                  format="json", REMOTE_ADDR="10.0.0.9").json()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        return client

    password = PASSWORD
    before_change = bearer()
    assert before_change.get("/api/v1/me/").status_code == 200
    assert before_change.post("/api/v1/auth/password/change/", {"old_password": PASSWORD,
                                                                "new_password": NEW_PASSWORD},
                              format="json").status_code == 204
    assert before_change.get("/api/v1/me/").status_code == 401
    password = NEW_PASSWORD
    before_reset = bearer()
    teacher.refresh_from_db()
    body = {"uid": urlsafe_base64_encode(force_bytes(teacher.pk)),
            "token": default_token_generator.make_token(teacher), "new_password": "third-pass-phrase-99"}
    assert APIClient().post("/api/v1/auth/password/reset/confirm/", body, format="json").status_code == 204
    assert before_reset.get("/api/v1/me/").status_code == 401


# --- Links from SITE_URL, the same work for any address ------------------------------------------

SITE = "https://attendance.school.example"


@pytest.fixture
def public_site(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]  # as if the server accepted any Host: the link must not follow it


@pytest.mark.usefixtures("public_site")
def test_the_page_s_reset_link_uses_site_url_whatever_host_is_sent(client, teacher,
                                                                    django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": teacher.email}, HTTP_HOST="localhost:6666")
    link = LINK.search(mail.outbox[0].body)
    assert link and link.group(0).startswith(f"{SITE}/accounts/reset/")
    assert "localhost:6666" not in mail.outbox[0].body


@pytest.mark.usefixtures("public_site")
def test_the_api_s_reset_link_uses_site_url_whatever_host_is_sent(teacher, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(None).post("/api/v1/auth/password/reset/", {"email": teacher.email},
                                             format="json", HTTP_HOST="evil.example:6666", secure=False)
    assert response.status_code == 202
    link = LINK.search(mail.outbox[0].body)
    assert link and link.group(0).startswith(f"{SITE}/accounts/reset/")
    assert "evil.example" not in mail.outbox[0].body


def _work_of_a_reset_request(email: str) -> dict[str, Any]:
    """What one API reset request does: tokens made, templates rendered, database reads and writes."""
    from unittest import mock

    from django.contrib.auth.tokens import PasswordResetTokenGenerator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts import passwords

    make_token = PasswordResetTokenGenerator.make_token
    with mock.patch.object(PasswordResetTokenGenerator, "make_token", autospec=True,
                           side_effect=make_token) as tokens, \
            mock.patch.object(passwords, "render_to_string", wraps=passwords.render_to_string) as renders, \
            CaptureQueriesContext(connection) as queries:
        response = api_client_for(None).post("/api/v1/auth/password/reset/", {"email": email}, format="json")
    assert response.status_code == 202
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    return {"tokens": tokens.call_count, "renders": [call.args[0] for call in renders.call_args_list],
            "reads_and_writes": [kind for kind in statements if kind in {"SELECT", "INSERT", "UPDATE", "DELETE"}]}


def test_an_unknown_address_does_the_same_work_as_a_known_one(teacher):
    known = _work_of_a_reset_request(teacher.email)
    unknown = _work_of_a_reset_request("nobody@school.example")
    assert known["tokens"] == 1 and known["reads_and_writes"] == ["SELECT", "INSERT"]
    assert unknown == known
    # ...and the unknown address's row did not stay: nothing is sent to it.
    from school.models import OutboxMessage

    assert not OutboxMessage.objects.filter(to="nobody@school.example").exists()


def test_a_warning_at_start_up_while_site_url_is_local_outside_debug(settings):
    from django.core import checks

    settings.DEBUG = False
    settings.SITE_URL = "http://localhost:8000"
    assert "accounts.W001" in [message.id for message in checks.run_checks()]
    settings.SITE_URL = SITE
    assert "accounts.W001" not in [message.id for message in checks.run_checks()]
    settings.DEBUG, settings.SITE_URL = True, "http://localhost:8000"
    assert "accounts.W001" not in [message.id for message in checks.run_checks()]
