"""Rules on values people type, one place for the pages, the API and the models (Django validators)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from school.clock import school_today

# A date of the school's life: a typo such as 0359 or 3026 is refused, not stored. The API's schema
# says the same with a pattern on the year (school.api.validators.SchoolDateField).
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
SCHOOL_DATE_PATTERN = r"^20[0-9]{2}-"


def school_date(value: datetime.date) -> None:
    """Refuses a date outside EARLIEST_DATE..LATEST_DATE with a message that gives the range."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(f"Give a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}.",
                              code="date_out_of_range")


# Codes people type and read (course codes): no control characters (tabs, line breaks, escapes, NUL…).
printable = RegexValidator(r"^[^\x00-\x1f\x7f-\x9f]*$", message="Use letters, digits and punctuation only: "
                           "no control characters such as tabs or line breaks.", code="not_printable")


# A date of birth's century, as the API's schema states it (school.api.validators.BirthDateField); a
# date after today is refused by its own rule.
BIRTH_DATE_PATTERN = r"^(19|20)[0-9]{2}-"


def birth_date(value: datetime.date) -> None:
    """A student's date of birth: after 1900 and not in the future (the school's clock)."""
    if not datetime.date(1900, 1, 1) <= value <= school_today():
        raise ValidationError("Give a date of birth between 1900-01-01 and today.", code="birth_date_out_of_range")
