"""Guardians without accounts: signed, expiring, single-purpose, revocable links.

A link carries `{student id, link version}` signed by django.core.signing with a salt per purpose, so
an attendance link cannot be used as a consent link; it expires after GUARDIAN_LINK_MAX_AGE_DAYS
(signing's timestamp); and bumping the student's `guardian_link_version` revokes every link issued before.
"""

from __future__ import annotations

import datetime
from enum import StrEnum
from typing import Any, cast

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from accounts.models import StudentProfile, User
from accounts.passwords import absolute_url
from school.models import OutboxMessage
from school.outbox import outbox_add


class Purpose(StrEnum):
    ATTENDANCE = "attendance"
    CONSENT = "consent"


_URL_NAMES = {Purpose.ATTENDANCE: "guardian-attendance", Purpose.CONSENT: "guardian-consent"}


class GuardianLinkInvalid(Exception):
    """A guardian link that cannot be used; `reason` is expired, revoked or invalid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _salt(purpose: Purpose) -> str:
    return f"smart_attendance.guardian.{purpose.value}"


def max_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.GUARDIAN_LINK_MAX_AGE_DAYS)


def guardian_token_make(*, student: StudentProfile, purpose: Purpose) -> str:
    return signing.dumps({"s": student.pk, "v": student.guardian_link_version}, salt=_salt(purpose), compress=True)


def guardian_link_make(*, student: StudentProfile, purpose: Purpose) -> str:
    """The absolute address of a guardian page for `purpose`, for an e-mail."""
    token = guardian_token_make(student=student, purpose=purpose)
    return absolute_url(reverse(_URL_NAMES[purpose], kwargs={"token": token}))


def guardian_link_read(*, token: str, purpose: Purpose) -> StudentProfile:
    """The student a link is for; GuardianLinkInvalid when it is tampered with, of another purpose,
    expired, revoked, or its student is gone."""
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=max_age())
    except signing.SignatureExpired:
        raise GuardianLinkInvalid("expired") from None
    except signing.BadSignature:
        raise GuardianLinkInvalid("invalid") from None
    if not isinstance(payload, dict):
        raise GuardianLinkInvalid("invalid")
    student = StudentProfile.objects.filter(pk=cast(Any, payload.get("s"))).first()
    if student is None:
        raise GuardianLinkInvalid("invalid")
    if payload.get("v") != student.guardian_link_version:
        raise GuardianLinkInvalid("revoked")
    return student


def guardian_links_revoke(*, student: StudentProfile) -> None:
    """Every guardian link issued so far for this student stops working."""
    StudentProfile.objects.filter(pk=student.pk).update(guardian_link_version=F("guardian_link_version") + 1)
    student.refresh_from_db(fields=["guardian_link_version"])


@transaction.atomic
def guardian_consent_link_send(*, student: StudentProfile, by: User) -> bool:
    """E-mails the guardian a link to give or withdraw biometric consent (through the outbox).
    False when the student has no guardian address."""
    if not student.guardian_email:
        return False
    sender = by.get_full_name() or by.username
    outbox_add(
        to=student.guardian_email, kind=OutboxMessage.Kind.GUARDIAN_LINK,
        subject=f"Face recognition at school: your consent for {student.full_name}",
        body=(f"Dear parent or guardian,\n\nThe school marks attendance with face recognition for pupils whose "
              f"guardian consents. You can give or withdraw consent for {student.full_name} here:\n\n"
              f"{guardian_link_make(student=student, purpose=Purpose.CONSENT)}\n\n"
              f"The link is valid for {settings.GUARDIAN_LINK_MAX_AGE_DAYS} days. Without consent, attendance "
              f"is taken by hand; withdrawing deletes the stored face data.\n\nSent by {sender}.\n"))
    return True


def absence_mail_footer(*, student: StudentProfile) -> str:
    """The line every absence e-mail ends with: the child's attendance for the term, read-only."""
    return (f"\nSee {student.first_name}'s attendance this term (link valid "
            f"{settings.GUARDIAN_LINK_MAX_AGE_DAYS} days):\n"
            f"{guardian_link_make(student=student, purpose=Purpose.ATTENDANCE)}\n")
