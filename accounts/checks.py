"""System checks of the accounts app, run at start-up (runserver, migrate, `manage.py check`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Warning

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def site_url_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Outside DEBUG, SITE_URL must be the school's public address: every link in an e-mail (password
    resets, invitations, guardians' links) starts with it, and a parent cannot open localhost."""
    if settings.DEBUG:
        return []
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host not in _LOCAL_HOSTS:
        return []
    return [Warning(
        f"SITE_URL is {settings.SITE_URL!r}: the links in e-mails (password resets, invitations, guardians' "
        "links) would point at the recipient's own machine.",
        hint="Set SITE_URL to the school's public address, e.g. https://attendance.school.example.",
        id="accounts.W001")]
