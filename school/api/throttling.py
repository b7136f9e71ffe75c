"""Rate limits, shared by the REST API, the staff pages and the recognition HTTP API.

DRF's throttle classes do the counting (in the default cache: per process with the local-memory
cache, shared by every worker with REDIS_URL). The pages call the same classes through
`school.pages.throttled`, so a teacher has one budget whether they upload from the page or
the mobile app. Clients are told apart by user id when logged in, otherwise by IP address, read the
way NUM_PROXIES says (the same function gives django-axes its client IP).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

# Scopes and the settings that name their rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).
AUTH = "auth"
AUTH_ADDRESS = "auth_address"
PHOTO_UPLOAD = "photo_upload"
FACE_ENROL = "face_enrol"
RECOGNITION_API = "recognition_api"
ROSTER_IMPORT = "roster_import"
LIVE_FRAME = "live_frame"


def client_ip(request: HttpRequest) -> str:
    """The caller's IP address: REMOTE_ADDR, or with NUM_PROXIES = n > 0 the address the n-th proxy
    from the right appended to X-Forwarded-For. A client-sent X-Forwarded-For is never trusted beyond
    that, so rotating the header does not give a new identity."""
    # get_ident reads only request.META, which a Django request has too.
    return BaseThrottle().get_ident(cast(Request, request)) or request.META.get("REMOTE_ADDR", "") or "unknown"


def axes_client_ip(request: HttpRequest) -> str | None:
    """The address django-axes records: None when there is none (a login without a network request,
    such as Client.force_login, or a server on a unix socket). Not "unknown": axes stores it in a
    GenericIPAddressField, which PostgreSQL refuses to compare with a non-address (a 500 on login)."""
    address = client_ip(request)
    return None if address == "unknown" else address


class ScopedUserThrottle(SimpleRateThrottle):
    """A per-user (anonymous: per-IP) limit of one scope, counted on unsafe methods only.

    The rate is read when the throttle is made, so `override_settings` and a changed environment
    take effect; a scope without a rate is not limited."""

    scope = ""

    def __init__(self) -> None:
        # Not SimpleRateThrottle's: it reads THROTTLE_RATES once, at import time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str | None:
        return cast("str | None", api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method in SAFE_METHODS:
            return None
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else f"ip-{client_ip(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        return super().allow_request(request, view)

    def retry_after(self) -> int:
        """Whole seconds until the next request is allowed (at least 1), for Retry-After."""
        return max(1, math.ceil(self.wait() or 1))


class PhotoUploadThrottle(ScopedUserThrottle):
    """Classroom photos: session uploads and one-shot marking, API and page together."""

    scope = PHOTO_UPLOAD


class FaceEnrolThrottle(ScopedUserThrottle):
    """Face enrolment: a student's faces (staff and self), assign-and-enrol, API and page together."""

    scope = FACE_ENROL


class LiveFrameThrottle(ScopedUserThrottle):
    """Live-mode webcam frames per user (a frame a second; photos keep their own budget)."""

    scope = LIVE_FRAME


class RosterImportThrottle(ScopedUserThrottle):
    """Roster imports per user: each may write thousands of students in one transaction."""

    scope = ROSTER_IMPORT


class RecognitionAPIThrottle(ScopedUserThrottle):
    """The recognition HTTP API (/api/ml/*), per calling IP address (its callers have no user)."""

    scope = RECOGNITION_API

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class LoginAddressThrottle(ScopedUserThrottle):
    """Every login attempt from one client IP address (the bound of LoginThrottle)."""

    scope = AUTH_ADDRESS

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method in SAFE_METHODS:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


def _account_named(request: Any) -> str:
    """The account a login or reset POST names (its username or e-mail), hashed for the cache key."""
    data = request.data if isinstance(request, Request) else request.POST
    if not isinstance(data, Mapping):  # a JSON body that is not an object: no name
        return ""
    name = data.get("username") or data.get("email")
    if not isinstance(name, str) or not name:
        return ""
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:24]


class LoginThrottle(LoginAddressThrottle):
    """Login attempts (API token, login page, admin login, password reset) per account name and client
    IP address (AUTH), within a larger budget of the address (AUTH_ADDRESS). A school behind one NAT
    address is not one small budget: a pupil hammering one name uses up that name's share, and only
    its refusals are not counted against the address; spraying many names stops at the address's bound."""

    scope = AUTH

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        address_key = super().get_cache_key(request, view)
        return None if address_key is None else f"{address_key}:{_account_named(request)}"

    def __init__(self) -> None:
        super().__init__()
        self.address = LoginAddressThrottle()
        self.address_refused = False

    def allow_request(self, request: Any, view: Any) -> bool:
        if not super().allow_request(request, view):
            return False  # not counted against the address: one name cannot use up the school's budget
        self.address_refused = not self.address.allow_request(request, view)
        return not self.address_refused

    def wait(self) -> float | None:
        return self.address.wait() if self.address_refused else super().wait()


def first_refusal(request: HttpRequest, throttles: list[type[ScopedUserThrottle]]) -> int | None:
    """Runs each throttle on `request`; the Retry-After seconds of the first that refuses, or None."""
    for throttle_class in throttles:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            return throttle.retry_after()
    return None


def enforce(request: Any, throttles: list[type[ScopedUserThrottle]]) -> None:
    """For an API view whose cost depends on its input (assign *and enrol*): Throttled (429) when
    one of `throttles` refuses."""
    retry_after = first_refusal(request, throttles)
    if retry_after is not None:
        raise Throttled(wait=retry_after)


def login_cooloff_seconds() -> int:
    """How long a locked-out login waits (django-axes' AXES_COOLOFF_TIME), for Retry-After."""
    cooloff = settings.AXES_COOLOFF_TIME
    return max(1, int(cooloff.total_seconds())) if cooloff else 3600
