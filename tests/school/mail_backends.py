"""E-mail backends for tests: a mail server that is down (SMTP refuses every message)."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class FailingSMTPBackend(BaseEmailBackend):
    """Fails like an SMTP server that refuses the connection."""

    attempts = 0

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        FailingSMTPBackend.attempts += len(email_messages)
        raise smtplib.SMTPConnectError(421, "Service not available")


class SlowRecordingBackend(BaseEmailBackend):
    """A slow mail server that records every recipient it accepted (thread-safe)."""

    accepted: list[str] = []
    lock = threading.Lock()

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        for message in email_messages:
            time.sleep(0.005)
            with self.lock:
                SlowRecordingBackend.accepted.extend(message.to)
        return len(email_messages)
