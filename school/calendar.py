"""The school calendar: terms, holidays and closures, and which days are school days.

A day is a school day when it falls inside a term (or no term is defined at all) and inside no
holiday or closure. Rates and at-risk lists count only sessions held on school days. The office page
and the API write it through the services below."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q

from school.errors import DomainError, ErrorKind
from school.models import Closure, Term


def _check_range(starts_on: datetime.date, ends_on: datetime.date) -> None:
    if ends_on < starts_on:
        raise DomainError("The last day must not be before the first day.", error_code="INVALID_DATE_RANGE")


@transaction.atomic
def term_create(*, name: str, starts_on: datetime.date, ends_on: datetime.date) -> Term:
    """A term; terms must not overlap (a day belongs to one term)."""
    _check_range(starts_on, ends_on)
    if Term.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).exists():
        raise DomainError("This term overlaps another term.", error_code="TERM_OVERLAP", kind=ErrorKind.CONFLICT)
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


# --- reads ------------------------------------------------------------------------------------


def closure_on(day: datetime.date) -> Closure | None:
    return Closure.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


def term_on(day: datetime.date) -> Term | None:
    return Term.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


def is_school_day(day: datetime.date) -> bool:
    """Sessions are expected on this day: inside a term (when terms exist) and not closed."""
    if closure_on(day) is not None:
        return False
    return term_on(day) is not None or not Term.objects.exists()


def expected_q(date_field: str) -> Q:
    """A filter keeping only rows whose `date_field` is a school day (one query for the calendar,
    then plain date ranges in SQL)."""
    condition = Q()
    for starts_on, ends_on in Closure.objects.values_list("starts_on", "ends_on"):
        condition &= ~Q(**{f"{date_field}__range": (starts_on, ends_on)})
    terms = list(Term.objects.values_list("starts_on", "ends_on"))
    if terms:
        in_term = Q()
        for starts_on, ends_on in terms:
            in_term |= Q(**{f"{date_field}__range": (starts_on, ends_on)})
        condition &= in_term
    return condition
