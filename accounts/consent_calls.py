"""The one place where this branch's pages (student, guardian) read or change consent.

Consent itself belongs to `accounts.services.student_consent_set` (a history of grants and withdrawals
will replace the single flag); keeping every call here makes that swap one edit."""

from __future__ import annotations

from typing import Any

from accounts.models import StudentProfile, User
from accounts.services import student_consent_set


def consent_state(*, student: StudentProfile) -> dict[str, Any]:
    """The current consent, as plain data for pages, the API and the data export."""
    return {"given": student.consent_given,
            "given_at": student.consent_given_at.isoformat() if student.consent_given_at else None,
            "recorded_by": str(student.consent_recorded_by) if student.consent_recorded_by else None}


def consent_change(*, student: StudentProfile, given: bool, by: User | None, how: str) -> StudentProfile:
    """Gives or withdraws consent (withdrawal deletes the faces and their photos). `by` is None for a
    guardian (no account); `how` says through which door (e.g. "guardian link", "student page")."""
    return student_consent_set(student=student, consent_given=given, by=by)  # type: ignore[arg-type]
