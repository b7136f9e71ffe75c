"""manage.py remind_registers: e-mails each teacher the day's registers not taken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from attendance.management.commands._day import parse_day
from attendance.register.daily_mail import registers_reminders_queue
from school.outbox import outbox_send_due


class Command(BaseCommand):
    help = ("Queues one e-mail per teacher listing the registers of the day (school time) not finalised by "
            "their cut-off (end of period + the school's register cut-off), then sends the outbox. At most one "
            "reminder per teacher and day. Cron, after the last period: 30 16 * * 1-5 manage.py remind_registers")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default: today, school time)")

    def handle(self, *args: Any, date: str | None = None, **options: Any) -> None:
        day = parse_day(date)
        queued = registers_reminders_queue(day=day)
        counts = outbox_send_due()
        self.stdout.write(f"{day}: {queued} reminder(s) queued; sent {counts['sent']}")
