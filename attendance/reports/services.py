"""Writes of the reports capability: applying a suggested threshold pair, by an admin, audited."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.services import teacher_settings_update
from attendance.models import ThresholdChange
from attendance.reports.calibration import course_suggestion
from classes.models import Course
from school.errors import DomainError, ErrorKind


@transaction.atomic
def thresholds_apply(*, course: Course, confident: Decimal, uncertain: Decimal, by: User) -> ThresholdChange:
    """Sets the course's teacher's recognition thresholds to the suggestion the admin saw (`confident`,
    `uncertain`), written in the audit (who, old, new, when, the decisions behind it).

    Only an admin (FORBIDDEN otherwise). The suggestion is computed again: when the decisions changed
    since the page was shown, or there are too few, nothing changes (SUGGESTION_CHANGED, 409)."""
    if not by.is_school_admin:
        raise DomainError("Only the school office may change a teacher's thresholds from the calibration page.",
                          error_code="FORBIDDEN", kind=ErrorKind.FORBIDDEN)
    suggestion = course_suggestion(course)
    if not suggestion.ready or (suggestion.confident, suggestion.uncertain) != (confident, uncertain):
        raise DomainError("The suggestion has changed since the page was shown (new decisions, or it was already "
                          "applied); look at it again.", error_code="SUGGESTION_CHANGED", kind=ErrorKind.CONFLICT)
    old = suggestion.teacher_settings
    old_confident, old_uncertain = old.confident_threshold, old.uncertain_threshold
    try:
        teacher_settings_update(user=course.teacher, data={"confident_threshold": confident,
                                                           "uncertain_threshold": uncertain})
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages), error_code="INVALID_THRESHOLDS") from exc
    return ThresholdChange.objects.create(
        teacher=course.teacher, teacher_username=course.teacher.username, course=course, changed_by=by,
        old_confident=old_confident, old_uncertain=old_uncertain, new_confident=confident, new_uncertain=uncertain,
        confirmed=len(suggestion.decisions.confirmed), rejected=len(suggestion.decisions.rejected))
