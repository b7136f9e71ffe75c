"""Query parameters read the same way by every API view."""

from __future__ import annotations

import datetime

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def date_param(request: Request, name: str) -> datetime.date | None:
    """The date in query parameter `name` (YYYY-MM-DD), None when absent; a 400 when malformed."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: ["Use a date in the form YYYY-MM-DD."]}) from None
