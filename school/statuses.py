"""The HTTP status of each kind of domain refusal (school.errors), at the edges: the REST API's exception
handler and the pages answer a refusal with the same status."""

from __future__ import annotations

from http import HTTPStatus

from school.errors import DomainError, ErrorKind

STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: HTTPStatus.BAD_REQUEST,
    ErrorKind.FORBIDDEN: HTTPStatus.FORBIDDEN,
    ErrorKind.NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorKind.CONFLICT: HTTPStatus.CONFLICT,
    ErrorKind.GONE: HTTPStatus.GONE,
    ErrorKind.TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorKind.UNSUPPORTED: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    ErrorKind.UNPROCESSABLE: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorKind.BUSY: HTTPStatus.TOO_MANY_REQUESTS,
    ErrorKind.UPSTREAM: HTTPStatus.BAD_GATEWAY,
    ErrorKind.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain refusal."""
    return int(STATUS_OF_KIND[exc.kind])
