"""Consent to face recognition as a history, and erasure receipts (SPEC §8).

`consent_record` is the one way consent changes, whoever changes it (staff page, API, admin, roster
or legacy import, a guardian's link): it appends a ConsentEvent and updates the student's cached
state under a row lock; a withdrawal deletes the student's embeddings and enrolment photos in the
same transaction and leaves an ErasureReceipt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from accounts.models import ConsentEvent, ErasureReceipt, StudentProfile, User

# The wording a guardian or student agrees to. Change the text → bump the version: every event
# stores both, so a record always shows what exactly was agreed to.
CONSENT_TEXT_VERSION = "2026-1"
CONSENT_TEXT = (
    "I agree that the school may store numerical templates of this student's face (face embeddings), "
    "computed from enrolment photos, and compare them with classroom photos to record attendance. "
    "Photos of the student alone may be kept to recompute the templates. The templates are never "
    "shared outside the school's attendance system. This consent can be withdrawn at any time; "
    "withdrawal deletes the templates and enrolment photos, and attendance is then taken by hand."
)

Action, Party, Channel = ConsentEvent.Action, ConsentEvent.Party, ConsentEvent.Channel


def consent_record(*, student: StudentProfile, given: bool, by: User | None, channel: str,
                   given_by: str = Party.STAFF, given_by_name: str = "", note: str = "",
                   renew: bool = False, link_sent_to: str = "") -> ConsentEvent | None:
    """Records a grant (`given`) or a withdrawal of the student's consent and returns the event.

    Nothing is recorded (None) when it changes nothing: a withdrawal without consent, or a grant
    when consent is already given, unless `renew` says that this grant is an explicit agreement to
    the current text while the last one was to another version. A withdrawal deletes every embedding
    and enrolment photo of the student (files after commit) and writes an erasure receipt. The
    student row is locked, so an enrolment running at the same time either finishes before (and is
    erased) or sees the withdrawal (and is refused)."""
    if given_by not in Party.values:
        raise ValueError(f"given_by must be one of {Party.values}")
    if channel not in Channel.values:
        raise ValueError(f"channel must be one of {Channel.values}")
    with transaction.atomic():
        locked = StudentProfile.objects.select_for_update().get(pk=student.pk)
        renewal = given and renew and _current_grant_version(locked) != CONSENT_TEXT_VERSION
        if given == locked.consent_given and not renewal:
            _copy_state(locked, student)
            return None
        event = ConsentEvent.objects.create(
            student=locked, student_number=locked.student_number, student_name=locked.full_name,
            action=Action.GRANT if given else Action.WITHDRAW, given_by=given_by, given_by_name=given_by_name[:200],
            channel=channel, recorded_by=by, recorded_by_username=by.username if by else "",
            text=CONSENT_TEXT, text_version=CONSENT_TEXT_VERSION, note=note[:500], link_sent_to=link_sent_to)
        locked.consent_given = given
        locked.consent_given_at = event.created_at if given else None
        locked.consent_recorded_by = by if given else None
        locked.save(update_fields=["consent_given", "consent_given_at", "consent_recorded_by", "updated_at"])
        if not given:
            biometrics_erase(student=locked, rule=ErasureReceipt.Rule.CONSENT_WITHDRAWN, by=by, consent_event=event)
        _copy_state(locked, student)
    return event


def _current_grant_version(student: StudentProfile) -> str | None:
    latest = student.consent_events.filter(action=Action.GRANT).order_by("-created_at", "-id").first()
    return latest.text_version if latest else None


def _copy_state(source: StudentProfile, target: StudentProfile) -> None:
    target.consent_given = source.consent_given
    target.consent_given_at = source.consent_given_at
    target.consent_recorded_by = source.consent_recorded_by


def biometrics_erase(*, student: StudentProfile, rule: str, by: User | None,
                     consent_event: ConsentEvent | None = None) -> ErasureReceipt:
    """Deletes every embedding and enrolment photo of the student (storage included) and returns the
    receipt, written even when nothing was held (it then proves that). The data are deleted by the apps
    that hold them (recognition: the enrolled faces), each registered with `biometric_holder_register`."""
    embeddings = photos = learned = 0
    for holder in _biometric_holders:
        erased = holder(student)
        embeddings, photos, learned = (embeddings + erased.embeddings, photos + erased.photos,
                                       learned + erased.learned)
    return erasure_receipt_write(student=student, rule=rule, embeddings=embeddings, photos=photos, by=by,
                                 consent_event=consent_event, learned=learned)


@dataclass(frozen=True)
class Erased:
    """What one holder of biometric data deleted for a student."""

    embeddings: int
    photos: int
    learned: int = 0  # of `embeddings`, those learned from confirmed classroom faces


# Apps above this one that keep a student's biometric data, each with the function that deletes it
# (inside the caller's transaction). Registered in their AppConfig.ready(): consent lives with the
# people, the data live with the apps that use them, and withdrawal must reach every one of them.
BiometricHolder = Callable[[StudentProfile], Erased]
_biometric_holders: list[BiometricHolder] = []


def biometric_holder_register(holder: BiometricHolder) -> None:
    if holder not in _biometric_holders:
        _biometric_holders.append(holder)


def erasure_receipt_write(*, student: StudentProfile, rule: str, embeddings: int, photos: int, by: User | None,
                          consent_event: ConsentEvent | None = None, learned: int = 0) -> ErasureReceipt:
    """The receipt of a deletion of biometric data: counts and kinds only, never the data."""
    return ErasureReceipt.objects.create(
        student=student, student_number=student.student_number, student_name=student.full_name, rule=rule,
        embeddings_deleted=embeddings, photos_deleted=photos, learned_deleted=learned,
        consent_event=consent_event, by=by, by_username=by.username if by else "")
