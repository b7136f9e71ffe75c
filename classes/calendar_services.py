"""Writes of the school calendar: terms, holidays and closures (the office page and the API call these)."""

from __future__ import annotations

import datetime

from django.db import transaction

from classes.models import Closure, Term
from smart_attendance.api.errors import DomainError


def _check_range(starts_on: datetime.date, ends_on: datetime.date) -> None:
    if ends_on < starts_on:
        raise DomainError("The last day must not be before the first day.", error_code="INVALID_DATE_RANGE")


@transaction.atomic
def term_create(*, name: str, starts_on: datetime.date, ends_on: datetime.date) -> Term:
    """A term; terms must not overlap (a day belongs to one term)."""
    _check_range(starts_on, ends_on)
    if Term.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).exists():
        raise DomainError("This term overlaps another term.", error_code="TERM_OVERLAP")
    return Term.objects.create(name=name.strip(), starts_on=starts_on, ends_on=ends_on)


@transaction.atomic
def closure_create(*, name: str, starts_on: datetime.date, ends_on: datetime.date,
                   kind: str = Closure.Kind.HOLIDAY) -> Closure:
    """A holiday or closure: no session is expected on its days; rates ignore sessions held then."""
    _check_range(starts_on, ends_on)
    if kind not in Closure.Kind.values:
        raise DomainError(f"Kind must be one of {', '.join(Closure.Kind.values)}.", error_code="INVALID_KIND")
    return Closure.objects.create(name=name.strip(), kind=kind, starts_on=starts_on, ends_on=ends_on)


@transaction.atomic
def calendar_entry_delete(*, entry: Term | Closure) -> None:
    entry.delete()
