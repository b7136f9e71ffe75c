"""Trusted devices of the login lockout (OWASP's "device cookies").

A browser or app that has logged in as someone keeps a signed cookie with a random device id and a
keyed hash of each login it has used (never the name itself). django-axes counts wrong passwords:

* from a client without that cookie for the username: per username + client IP, as before, so a pupil
  behind the school's NAT who guesses the teacher's password locks out untrusted clients at that
  address, and brute force from one machine stops after LOGIN_FAILURE_LIMIT tries;
* from a device whose cookie vouches for the username: per username + that device, wherever it is,
  so the teacher's own laptop or phone keeps logging in while the pupil is locked out, and wrong
  passwords typed on it lock only it.

The cookie is signed with SECRET_KEY (a forged one is ignored: an untrusted client) and expires after
LOGIN_TRUSTED_DEVICE_DAYS. axes records a trusted device's failures under "<username> (trusted device
<id>)", which is what the admin lists and `axes_reset_username` takes.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from rest_framework.request import Request

    AnyRequest = HttpRequest | Request

DEVICE_COOKIE = "login_device"
_SALT = "accounts.devices"
_DEVICE_MARK = " (trusted device "
# A staff-room computer may be shared: it stays trusted for this many logins (the most recent ones).
_MAX_LOGINS_PER_DEVICE = 8


def _max_age() -> int:
    return int(settings.LOGIN_TRUSTED_DEVICE_DAYS) * 86400


def _login_key(username: str) -> str:
    return salted_hmac(_SALT, username.strip()).hexdigest()[:24]


def _cookie(request: AnyRequest) -> tuple[str, list[str]] | None:
    """The device id and login keys of the request's device cookie; None without a valid one."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_SALT, max_age=_max_age())
    except signing.BadSignature:  # tampered, expired or not ours
        return None
    if not isinstance(value, dict):
        return None
    device_id, logins = value.get("d"), value.get("a")
    if not isinstance(device_id, str) or not isinstance(logins, list):
        return None
    return device_id, [key for key in logins if isinstance(key, str)]


def trusted_device(request: AnyRequest, username: str) -> str | None:
    """The id of the request's device when it has logged in as `username` before, else None."""
    cookie = _cookie(request)
    if cookie is None or _login_key(username) not in cookie[1]:
        return None
    return cookie[0]


def device_remember(*, request: AnyRequest, response: HttpResponseBase, username: str) -> None:
    """After a successful login as `username`: the response's cookie vouches for it on this device."""
    cookie = _cookie(request)
    device_id, logins = cookie if cookie is not None else (secrets.token_urlsafe(12), [])
    key = _login_key(username)
    logins = [*[known for known in logins if known != key], key][-_MAX_LOGINS_PER_DEVICE:]
    response.set_cookie(DEVICE_COOKIE, signing.dumps({"d": device_id, "a": logins}, salt=_SALT),
                        max_age=_max_age(), httponly=True, secure=settings.SESSION_COOKIE_SECURE,
                        samesite="Lax")


def _posted_username(request: AnyRequest, credentials: dict[str, Any] | None) -> str | None:
    field = str(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))
    # Without credentials, as axes reads it: a DRF request's data, else the form.
    value = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return value if isinstance(value, str) else None


def axes_username(request: AnyRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username, marked with the device when its cookie vouches for it."""
    username = _posted_username(request, credentials)
    if not username:
        return username
    device_id = trusted_device(request, username)
    return username if device_id is None else f"{username}{_DEVICE_MARK}{device_id})"


def axes_lockout_parameters(request_or_attempt: Any, credentials: dict[str, Any] | None = None) -> list[list[str]]:
    """AXES_LOCKOUT_PARAMETERS: a trusted device is counted on its own wherever it connects from;
    any other client per username and client IP."""
    if hasattr(request_or_attempt, "COOKIES"):  # a request (Django's or DRF's)
        username = _posted_username(request_or_attempt, credentials)
        trusted = bool(username) and trusted_device(request_or_attempt, username or "") is not None
    else:  # a stored attempt (axes' admin and cache handlers)
        trusted = _DEVICE_MARK in (getattr(request_or_attempt, "username", None) or "")
    return [["username"]] if trusted else [["username", "ip_address"]]
