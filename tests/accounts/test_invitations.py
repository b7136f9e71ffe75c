"""Invitations: a new login gets a one-time set-password link by e-mail instead of a password."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/]+/[^/]+/)")
NEW_PASSWORD = "my-own-chosen-pass-phrase-9"


def _invite(admin_api, capture, **extra):
    body = {"username": "new.teacher", "email": "new.teacher@school.example", "role": "teacher", "invite": True,
            **extra}
    with capture(execute=True):
        return admin_api.post("/api/v1/users/", body, format="json")


def test_invited_teacher_chooses_a_password_through_the_link_once(
        admin_api, client, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://attendance.school.example"
    response = _invite(admin_api, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="new.teacher")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.teacher@school.example"]
    body = mail.outbox[0].body
    assert "new.teacher" in body and "https://attendance.school.example/accounts/reset/" in body
    link = LINK.search(body).group(1)
    page = client.get(link, follow=True)
    assert page.context["validlink"] is True
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(link, follow=True).context["validlink"] is False


def test_invited_student_login(admin_api, django_capture_on_commit_callbacks):
    response = _invite(admin_api, django_capture_on_commit_callbacks, username="pupil", role="student",
                       email="pupil@school.example")
    assert response.status_code == 201
    assert User.objects.get(username="pupil").role == "student"
    assert mail.outbox[0].to == ["pupil@school.example"]


def test_invitation_needs_an_email_and_no_password(admin_api, django_capture_on_commit_callbacks):
    no_email = _invite(admin_api, django_capture_on_commit_callbacks, email="")
    assert no_email.status_code == 400 and "email" in no_email.json()["details"]
    both = _invite(admin_api, django_capture_on_commit_callbacks, password="another-long-pass-77")
    assert both.status_code == 400 and "password" in both.json()["details"]
    assert not User.objects.filter(username="new.teacher").exists() and mail.outbox == []


def test_without_invite_a_password_is_still_required(admin_api):
    response = admin_api.post("/api/v1/users/", {"username": "x", "role": "teacher"}, format="json")
    assert response.status_code == 400 and "password" in response.json()["details"]


def test_teachers_cannot_invite(teacher_api):
    response = teacher_api.post("/api/v1/users/", {"username": "x", "email": "x@s.example", "role": "teacher",
                                                   "invite": True}, format="json")
    assert response.status_code == 403


def test_an_invited_user_whose_link_expired_can_ask_for_a_reset(client, admin_api, settings,
                                                                 django_capture_on_commit_callbacks):
    _invite(admin_api, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "new.teacher@school.example"})
    assert len(mail.outbox) == 1 and LINK.search(mail.outbox[0].body)
