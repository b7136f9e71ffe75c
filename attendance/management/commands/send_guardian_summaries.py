"""manage.py send_guardian_summaries: the guardians' daily summary (when the school chose it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from attendance.management.commands._day import parse_day
from attendance.register.daily_mail import guardian_summaries_queue
from school.outbox import outbox_send_due
from school.selectors import school_settings_get


class Command(BaseCommand):
    help = ("With the school setting 'guardian daily summary' on, queues one e-mail per guardian listing their "
            "children's absences and late arrivals of the day, then sends the outbox. At most one per guardian "
            "and day. Cron, after school: 0 18 * * 1-5 manage.py send_guardian_summaries")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default: today, school time)")

    def handle(self, *args: Any, date: str | None = None, **options: Any) -> None:
        day = parse_day(date)
        if not school_settings_get().guardian_daily_summary:
            self.stdout.write("The guardian daily summary is off (school settings): nothing to do.")
            return
        queued = guardian_summaries_queue(day=day)
        counts = outbox_send_due()
        self.stdout.write(f"{day}: {queued} summary(ies) queued; sent {counts['sent']}")
