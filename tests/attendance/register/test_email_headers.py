"""Absence e-mails with hostile names: a line break cannot stop, or inject into, a session's e-mails."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from attendance.register import services
from school.models import OutboxMessage
from school.outbox import outbox_send_due
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_line_break_in_a_name_stops_no_absence_email(teacher: Any,
                                                       django_capture_on_commit_callbacks: Any) -> None:
    course = factories.CourseFactory(teacher=teacher, name="History\r\nBcc: everyone@example.com")
    students = [factories.StudentFactory(first_name="Eve\nBcc: spy@example.com", last_name="A"),
                factories.StudentFactory(first_name="Bob", last_name="B")]
    for student in students:
        factories.EnrollmentFactory(course=course, student=student)
    session = services.session_create(course=course, date="2026-11-20", by=teacher)

    with django_capture_on_commit_callbacks(execute=True):
        services.session_finalize(session=session, by=teacher)

    absences = [m for m in mail.outbox if m.subject.startswith("Absence")]
    assert sorted(m.to[0] for m in absences) == sorted(s.guardian_email for s in students)
    for message in absences:
        assert "\n" not in message.subject and "\r" not in message.subject
        headers = message.message()
        assert headers["Bcc"] is None and "spy@example.com" not in headers["To"]
    eve = next(m for m in absences if m.to == [students[0].guardian_email])
    assert eve.subject.startswith("Absence: Eve Bcc: spy@example.com A, History Bcc: everyone@example.com on")


class _FailsForOneAddress:
    """An SMTP stand-in (nothing leaves the machine) that refuses one recipient."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _FailsForOneAddress:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        for message in messages:
            if message.to == ["refused@family.example"]:
                raise OSError("550 mailbox unavailable")
            mail.outbox.append(message)
        return len(messages)


def test_one_failing_email_does_not_stop_the_others(teacher: Any, settings: Any,
                                                    django_capture_on_commit_callbacks: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}._FailsForOneAddress"
    course = factories.CourseFactory(teacher=teacher)
    refused = factories.StudentFactory(last_name="Aardvark", guardian_email="refused@family.example")
    others = [factories.StudentFactory(last_name=name) for name in ("Brown", "Clark")]
    for student in (refused, *others):
        factories.EnrollmentFactory(course=course, student=student)
    session = services.session_create(course=course, date="2026-11-20", by=teacher)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.session_finalize(session=session, by=teacher)
    outbox_send_due()  # the cron round: what the after-commit sends skipped after the refusal

    assert result.session.state == "finalized"
    delivered = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Absence"))
    assert delivered == sorted(s.guardian_email for s in others)
    refused_message = OutboxMessage.objects.get(to="refused@family.example")
    assert refused_message.status == "pending" and "550" in refused_message.last_error  # retried later
