"""The one place where this branch's pages (student, guardian) and the data export read or change
consent, through the consent history (accounts/consent.py)."""

from __future__ import annotations

from typing import Any

from accounts.consent import CONSENT_TEXT, CONSENT_TEXT_VERSION, consent_record
from accounts.models import ConsentEvent, StudentProfile, User
from accounts.selectors import consent_history

Party, Channel = ConsentEvent.Party, ConsentEvent.Channel


def consent_state(*, student: StudentProfile) -> dict[str, Any]:
    """The current consent, its history and the erasure receipts, as plain data for pages, the API
    and the data export (never any biometric data: receipts hold counts)."""
    history = consent_history(student=student)
    return {
        "given": student.consent_given,
        "given_at": student.consent_given_at.isoformat() if student.consent_given_at else None,
        "current_text_version": CONSENT_TEXT_VERSION,
        "history": [{"action": e.action, "given_by": e.given_by, "given_by_name": e.given_by_name,
                     "channel": e.channel, "recorded_by": e.recorded_by_username, "text": e.text,
                     "text_version": e.text_version, "link_sent_to": e.link_sent_to,
                     "at": e.created_at.isoformat()} for e in history.events],
        "erasure_receipts": [{"rule": r.rule, "what": r.summary, "embeddings_deleted": r.embeddings_deleted,
                              "photos_deleted": r.photos_deleted, "at": r.created_at.isoformat()}
                             for r in history.receipts],
    }


def consent_change(*, student: StudentProfile, given: bool, by: User | None, party: str,
                   channel: str, link_sent_to: str = "") -> ConsentEvent | None:
    """Gives or withdraws consent (a withdrawal deletes the faces and photos and writes an erasure
    receipt). `by` is None for a guardian (no account); `party` says who (guardian, student),
    `channel` through which door; `link_sent_to` the address a guardian link was e-mailed to."""
    return consent_record(student=student, given=given, by=by, channel=channel, given_by=party, renew=True,
                          link_sent_to=link_sent_to)


def consent_text() -> dict[str, str]:
    """The wording a guardian or student agrees to, with its version (shown where consent is given)."""
    return {"text": CONSENT_TEXT, "version": CONSENT_TEXT_VERSION}
