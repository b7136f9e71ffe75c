"""Passwords: reset by e-mail, change, and invitations (a set-password link instead of a password).

Django's own machinery does the work: `default_token_generator` makes the one-time tokens (they hash the
password and the last login, so a link stops working once used, and PASSWORD_RESET_TIMEOUT expires it),
`PasswordResetForm`/`SetPasswordForm`/`PasswordChangeForm` validate. The changes: every e-mail goes
through the outbox (school/outbox.py), so a failing mail server loses nothing, and every link in an
e-mail starts with SITE_URL (`absolute_url`), never with the Host header of the request that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User
from school.errors import DomainError
from school.models import OutboxMessage
from school.outbox import outbox_add


def absolute_url(path: str) -> str:
    """An address for an e-mail: SITE_URL (the school's public address) followed by `path`."""
    return settings.SITE_URL.rstrip("/") + path


def _queue_mail(*, to: str, subject: str, body: str) -> None:
    outbox_add(to=to, kind=OutboxMessage.Kind.ACCOUNT, subject=subject, body=body)


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form whose e-mail is queued in the outbox instead of sent in the request, with a
    link that starts with SITE_URL whatever Host header the request came with."""

    def get_users(self, email: str) -> Iterator[User]:
        """Active users with this address, including invited ones who have not chosen a password yet
        (their invitation may have expired; here no account has a password managed elsewhere)."""
        for user in User.objects.filter(email__iexact=email, is_active=True):
            if user.email.casefold() == email.casefold():
                yield user

    def save(self, domain_override: str | None = None,
             subject_template_name: str = "registration/password_reset_subject.txt",
             email_template_name: str = "registration/password_reset_email.html",
             use_https: bool = False, token_generator: PasswordResetTokenGenerator = default_token_generator,
             from_email: str | None = None, request: HttpRequest | None = None,
             html_email_template_name: str | None = None,
             extra_email_context: dict[str, Any] | None = None) -> None:
        """Queues a reset e-mail to each account with the address. The link is built from SITE_URL:
        `domain_override`, `use_https` and `request` (the caller's Host header) are ignored.

        An address without an account does the same work, so the answer's time does not say whether
        the address exists: a token for a stand-in user, the e-mail rendered, its outbox row written,
        then that row rolled back (nothing is sent)."""
        email = self.cleaned_data["email"]
        users = list(self.get_users(email))
        with transaction.atomic():
            for user in users or [User(email=email)]:
                uid = urlsafe_base64_encode(force_bytes(User._meta.pk.value_to_string(user)))
                token = token_generator.make_token(user)
                context = {"email": email, "user": user, "uid": uid, "token": token,
                           "link": absolute_url(reverse("password_reset_confirm",
                                                        kwargs={"uidb64": uid, "token": token})),
                           **(extra_email_context or {})}
                self.send_mail(subject_template_name, email_template_name, context, from_email, user.email)
            if not users:
                transaction.set_rollback(True)

    def send_mail(self, subject_template_name: str, email_template_name: str, context: dict[str, Any],
                  from_email: str | None, to_email: str, html_email_template_name: str | None = None) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        _queue_mail(to=to_email, subject=subject, body=render_to_string(email_template_name, context))


def password_reset_request(*, email: str) -> None:
    """Queues a reset e-mail to every active user with this address; says nothing about whether one
    exists (no account enumeration), and takes the same steps when none does."""
    form = OutboxPasswordResetForm(data={"email": email})
    if form.is_valid():
        form.save()


def user_from_uid(uidb64: str) -> User | None:
    """The user a reset link names, or None for a malformed or unknown id."""
    try:
        return User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None


def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> dict[str, list[str]]:
    """Sets a new password from a reset or invitation link. Returns the errors by field (empty when
    done): an unknown user or a used, expired or tampered token is one `token` error."""
    user = user_from_uid(uidb64)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        return {"token": ["This link is invalid, expired or already used. Ask for a new one."]}
    form = SetPasswordForm(user, data={"new_password1": new_password, "new_password2": new_password})
    if not form.is_valid():
        return {"new_password": [str(e) for errors in form.errors.values() for e in errors]}
    form.save()
    return {}


def password_change(*, user: User, old_password: str, new_password: str) -> dict[str, list[str]]:
    """Changes a logged-in user's password; the old one is required. Returns the errors by field."""
    form = PasswordChangeForm(user, data={"old_password": old_password, "new_password1": new_password,
                                          "new_password2": new_password})
    if not form.is_valid():
        errors = dict(form.errors)
        return {("new_password" if name.startswith("new_password") else name): [str(m) for m in messages]
                for name, messages in errors.items()}
    form.save()
    return {}


def set_password_link(*, user: User) -> str:
    """The absolute address of the set-password page for `user` (the reset page with a fresh token)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return absolute_url(reverse("password_reset_confirm", kwargs={
        "uidb64": uid, "token": default_token_generator.make_token(user)}))


def user_invite(*, user: User) -> None:
    """Queues an invitation with a set-password link (valid PASSWORD_RESET_TIMEOUT seconds) to the
    user's e-mail address. The user has no usable password until they choose one."""
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    body = render_to_string("registration/invitation_email.txt", {
        "user": user, "link": set_password_link(user=user), "days": days, "login": absolute_url(reverse("login"))})
    _queue_mail(to=user.email, subject="Your Smart Attendance account", body=body)


def password_rejected(errors: dict[str, list[str]]) -> DomainError:
    """The refusal of a new password by the school's rules (AUTH_PASSWORD_VALIDATORS): too short, too
    common, all digits, too like the name. The reasons are in `details`, field by field."""
    reasons = " ".join(message for messages in errors.values() for message in messages)
    return DomainError(f"This password is not accepted: {reasons}", error_code="PASSWORD_REJECTED", details=errors)
