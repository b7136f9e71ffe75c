"""Guardians without accounts: sealed, expiring, single-purpose, revocable links.

A link carries `{student id, link version, the address it was sent to}` sealed (encrypted and
authenticated, school/sealed.py) with a key per purpose, so nobody reads whose link it is and an
attendance link cannot be used as a consent link; it expires after GUARDIAN_LINK_MAX_AGE_DAYS (the
token's timestamp); bumping the student's `guardian_link_version` revokes every link issued before, and
a link sent to an address that is no longer the guardian's is refused as revoked too.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from accounts.models import GuardianContactChange, StudentProfile, User
from accounts.passwords import absolute_url
from school.errors import DomainError, ErrorKind
from school.models import OutboxMessage
from school.outbox import outbox_add
from school.sealed import TokenExpired, TokenInvalid, seal, unseal


class Purpose(StrEnum):
    ATTENDANCE = "attendance"
    CONSENT = "consent"


_URL_NAMES = {Purpose.ATTENDANCE: "guardian-attendance", Purpose.CONSENT: "guardian-consent"}


class GuardianLinkInvalid(Exception):
    """A guardian link that cannot be used; `reason` is expired, revoked or invalid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class GuardianLink:
    """An opened link: the student, and the address the link was e-mailed to."""

    student: StudentProfile
    sent_to: str


def _sealing_purpose(purpose: Purpose) -> str:
    return f"smart_attendance.guardian.{purpose.value}"


def max_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.GUARDIAN_LINK_MAX_AGE_DAYS)


def guardian_token_make(*, student: StudentProfile, purpose: Purpose) -> str:
    """The opaque token of a link to the student's guardian address of now."""
    return seal({"s": student.pk, "v": student.guardian_link_version, "e": student.guardian_email},
                purpose=_sealing_purpose(purpose))


def guardian_link_make(*, student: StudentProfile, purpose: Purpose) -> str:
    """The absolute address of a guardian page for `purpose`, for an e-mail."""
    token = guardian_token_make(student=student, purpose=purpose)
    return absolute_url(reverse(_URL_NAMES[purpose], kwargs={"token": token}))


def guardian_link_read(*, token: str, purpose: Purpose) -> GuardianLink:
    """The student a link is for and the address it was sent to; GuardianLinkInvalid when it is
    tampered with, of another purpose, expired, revoked (or sent to a former guardian address), or its
    student is gone."""
    try:
        payload = unseal(token, purpose=_sealing_purpose(purpose), max_age=max_age())
    except TokenExpired:
        raise GuardianLinkInvalid("expired") from None
    except TokenInvalid:
        raise GuardianLinkInvalid("invalid") from None
    student_id, sent_to = payload.get("s"), payload.get("e")
    if not isinstance(student_id, int) or not isinstance(sent_to, str):
        raise GuardianLinkInvalid("invalid")
    student = StudentProfile.objects.filter(pk=student_id).first()
    if student is None:
        raise GuardianLinkInvalid("invalid")
    if payload.get("v") != student.guardian_link_version or sent_to != student.guardian_email:
        raise GuardianLinkInvalid("revoked")
    return GuardianLink(student=student, sent_to=sent_to)


def guardian_links_revoke(*, student: StudentProfile) -> None:
    """Every guardian link issued so far for this student stops working."""
    StudentProfile.objects.filter(pk=student.pk).update(guardian_link_version=F("guardian_link_version") + 1)
    student.refresh_from_db(fields=["guardian_link_version"])


def guardian_contact_may_change(*, user: User | None, student: StudentProfile) -> bool:
    """Who may change a guardian address: the office (role admin) and operators' commands (no user);
    a teacher only gives a student without one their first address. Redirecting an existing guardian's
    mail would let whoever does it read the absence e-mails and give "guardian" consent."""
    return user is None or user.is_school_admin or not student.guardian_email


@transaction.atomic
def guardian_contact_change(*, student: StudentProfile, email: str, by: User | None,
                            channel: str) -> GuardianContactChange | None:
    """Changes the student's guardian e-mail address, the one way it changes once set (the office's
    page, the API, the admin, the roster import). Audited (who, old, new, when, through which door);
    every guardian link sent so far stops working; the former address is told (through the outbox).
    None when the address does not change. Refused (403 GUARDIAN_CONTACT_OFFICE_ONLY) for anyone but
    the office, except a first address (guardian_contact_may_change)."""
    email = email.strip()
    locked = StudentProfile.objects.select_for_update().get(pk=student.pk)
    old = locked.guardian_email
    if email == old:
        return None
    if not guardian_contact_may_change(user=by, student=locked):
        raise DomainError("Only the school office may change a guardian's e-mail address once it is set.",
                          error_code="GUARDIAN_CONTACT_OFFICE_ONLY", kind=ErrorKind.FORBIDDEN)
    change = GuardianContactChange.objects.create(
        student=locked, student_number=locked.student_number, student_name=locked.full_name, old_email=old,
        new_email=email, channel=channel, changed_by=by, changed_by_username=by.username if by else "")
    locked.guardian_email = email
    locked.save(update_fields=["guardian_email", "updated_at"])
    guardian_links_revoke(student=locked)
    student.guardian_email, student.guardian_link_version = locked.guardian_email, locked.guardian_link_version
    if old:
        outbox_add(
            to=old, kind=OutboxMessage.Kind.GUARDIAN_CONTACT,
            subject=f"{student.full_name}: the school no longer writes to this address",
            body=(f"Dear parent or guardian,\n\nThe school changed the guardian e-mail address of "
                  f"{student.full_name} on {change.created_at:%d %B %Y}: attendance e-mails and consent "
                  "requests no longer come to this address, and the links sent to it no longer work.\n\n"
                  "If you did not expect this, please contact the school office.\n"))
    return change


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
