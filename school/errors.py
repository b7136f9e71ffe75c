"""The errors of the domain: plain exceptions with a stable code, a message for people and a kind.

Services and selectors raise these and know nothing of HTTP. The edges turn them into answers:
the REST API's exception handler (`school.api.errors`) into statuses and the one JSON error shape,
the pages (`school.pages`) into a message on the page; a command prints the code and the message.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorKind(enum.Enum):
    """What sort of refusal this is; each edge decides what it means for its callers (see
    `school.statuses.STATUS_OF_KIND` for the statuses of the API and the pages)."""

    INVALID = "invalid"  # the request itself is wrong
    FORBIDDEN = "forbidden"  # allowed to see the object, not to do this with it
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the object's state forbids it now (finalised, already there …)
    GONE = "gone"  # it was valid once and has expired (a link, a ticket)
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"  # a file of a type we do not read
    UNPROCESSABLE = "unprocessable"  # well formed, but its content cannot be used (no face …)
    BUSY = "busy"  # try again in a moment (one at a time)
    UPSTREAM = "upstream"  # a dependency answered wrongly
    UNAVAILABLE = "unavailable"  # a dependency is down: try again later


class DomainError(Exception):
    """A business-rule refusal: `error_code` is stable (clients branch on it), `message` is for people."""

    error_code: str = "BAD_REQUEST"
    kind: ErrorKind = ErrorKind.INVALID

    def __init__(self, message: str, *, error_code: str | None = None, kind: ErrorKind | None = None,
                 details: Any = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code:
            self.error_code = error_code
        if kind is not None:
            self.kind = kind
        self.details = details
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message
