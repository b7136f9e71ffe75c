"""Query parameters read the same way by every API view."""

from __future__ import annotations

import datetime

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def date_param(request: Request, name: str) -> datetime.date | None:
    """The date in query parameter `name` (YYYY-MM-DD), None when absent; a 400 when malformed or empty."""
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: ["Use a date in the form YYYY-MM-DD."]}) from None


def choice_param(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    """Query parameter `name`, one of `choices`; `default` when absent; a 400 when empty or another word."""
    value = request.query_params.get(name)
    if value is None:
        return default
    if value not in choices:
        raise ValidationError({name: [f"Use one of: {', '.join(choices)}."]})
    return value
