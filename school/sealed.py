"""Tokens that travel in URLs (guardian links, the check-in QR code): encrypted and authenticated.

django.core.signing only signs: its payload is base64 that anyone can read (`{"s":10,"v":1}` named the
student in every access log and proxy log a link passed through). A sealed token is Fernet
(cryptography's AES-CBC + HMAC-SHA256 with a timestamp): nobody without the key reads or changes it.
Each purpose has its own key, derived from SECRET_KEY (and SECRET_KEY_FALLBACKS, so a key rotation
keeps the links already sent working until they expire), so a token of one purpose never opens another.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac


class TokenInvalid(Exception):
    """Tampered with, of another purpose, or not a token at all."""


class TokenExpired(TokenInvalid):
    """Genuine but older than its purpose allows."""


def _keys(purpose: str) -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(salted_hmac(f"school.sealed.{purpose}", "fernet-key", secret=secret,
                                                    algorithm="sha256").digest()))
        for secret in secrets])


def seal(payload: dict[str, Any], *, purpose: str) -> str:
    """An opaque, URL-safe token carrying `payload` (JSON-ready) for `purpose`, stamped with the time."""
    data = json.dumps(payload, separators=(",", ":")).encode()
    return _keys(purpose).encrypt(data).decode("ascii")


def unseal(token: str, *, purpose: str, max_age: datetime.timedelta | None = None) -> dict[str, Any]:
    """The payload of a token made by `seal` for `purpose`. TokenExpired when older than `max_age`,
    TokenInvalid for anything else that is not such a token."""
    keys = _keys(purpose)
    try:
        raw = token.encode("ascii")
        payload = json.loads(keys.decrypt(raw))
        issued = keys.extract_timestamp(raw)
    except (InvalidToken, UnicodeError, ValueError):
        raise TokenInvalid from None
    if not isinstance(payload, dict):
        raise TokenInvalid
    if max_age is not None and time.time() - issued > max_age.total_seconds():
        raise TokenExpired
    return payload
