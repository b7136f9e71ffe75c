"""E-mail backends for tests: a mail server that is down (SMTP refuses every message)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class FailingSMTPBackend(BaseEmailBackend):
    """Fails like an SMTP server that refuses the connection."""

    attempts = 0

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        FailingSMTPBackend.attempts += len(email_messages)
        raise smtplib.SMTPConnectError(421, "Service not available")
