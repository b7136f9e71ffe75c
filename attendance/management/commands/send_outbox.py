"""manage.py send_outbox: sends the e-mails that are due (run it every minute from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from school.outbox import outbox_send_due


class Command(BaseCommand):
    help = ("Sends the outbox messages that are due: new ones whose after-commit sending failed and those "
            "waiting for a retry (backoff 1 min, 5 min, 15 min, 1 h, then every 3 h, up to OUTBOX_MAX_ATTEMPTS). "
            "Safe to run from several machines at once: each message is claimed before it is sent. "
            "Cron: * * * * * manage.py send_outbox")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="most messages to send in this run (500)")

    def handle(self, *args: Any, limit: int = 500, **options: Any) -> None:
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        counts = outbox_send_due(limit=limit)
        self.stdout.write(f"sent {counts['sent']}, failed {counts['failed']} (will retry), "
                          f"given up {counts['given_up']}")
