"""Messages are never lost: every e-mail is an outbox row written with the decision, sent after the
commit, retried after an SMTP failure, sent exactly once; a corrected absence sends a follow-up."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register import services
from school.models import OutboxMessage, SchoolSettings
from school.outbox import message_claim, outbox_add, outbox_send_due
from tests import factories
from tests.conftest import ClientFor
from tests.school.mail_backends import FailingSMTPBackend

pytestmark = pytest.mark.django_db

FAILING = "tests.school.mail_backends.FailingSMTPBackend"


@pytest.fixture
def course_with_session(teacher: Any) -> tuple[AttendanceSession, list[Any]]:
    course = factories.CourseFactory(teacher=teacher, name="History 8B", code="HIST-8B")
    students = [factories.StudentFactory(first_name=f"Pupil{i}", last_name=f"Family{i}") for i in range(3)]
    for student in students:
        factories.EnrollmentFactory(course=course, student=student)
    session = services.session_create(course=course, date=datetime.date(2026, 11, 20), label="Period 1", by=teacher)
    # One pupil is seen; the other two will be absent.
    record = AttendanceRecord.objects.get(session=session, student=students[0])
    services.record_correct(record=record, status="present", by=teacher)
    return session, students


def finalise(session: AttendanceSession, teacher: Any, capture: Any) -> None:
    with capture(execute=True):
        services.session_finalize(session=session, by=teacher)


def test_finalise_writes_the_emails_to_the_outbox_and_sends_them_after_commit(
        teacher: Any, course_with_session: Any, django_capture_on_commit_callbacks: Any) -> None:
    session, students = course_with_session
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.session_finalize(session=session, by=teacher)
        queued = list(OutboxMessage.objects.filter(kind="absence"))
        # Written in the finalising transaction, not sent yet.
        assert sorted(m.to for m in queued) == sorted(s.guardian_email for s in students[1:])
        assert all(m.status == "pending" for m in queued) and mail.outbox == []
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Absence")) == sorted(
        s.guardian_email for s in students[1:])
    assert set(OutboxMessage.objects.filter(kind="absence").values_list("status", flat=True)) == {"sent"}


def test_the_outbox_survives_an_smtp_failure_and_sends_on_retry_exactly_once(
        settings: Any, teacher: Any, course_with_session: Any, django_capture_on_commit_callbacks: Any) -> None:
    session, students = course_with_session
    settings.EMAIL_BACKEND = FAILING
    FailingSMTPBackend.attempts = 0
    finalise(session, teacher, django_capture_on_commit_callbacks)

    # The session is finalised all the same; the messages wait. After the first failure the server
    # counts as down: the other messages are not tried in the request (it does not wait for timeouts).
    session.refresh_from_db()
    assert session.state == "finalized"
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert len(messages) == 3 and FailingSMTPBackend.attempts == 1
    assert all(m.status == "pending" for m in messages)
    tried = messages[0]
    assert tried.attempts == 1 and "Service not available" in tried.last_error
    assert tried.next_attempt_at > timezone.now()  # backoff
    assert [m.attempts for m in messages[1:]] == [0, 0]
    # Cron tries the others; they fail too and wait for their backoff.
    assert outbox_send_due()["failed"] == 2
    assert outbox_send_due()["sent"] == 0  # none due yet

    # The mail server is back; cron runs after the backoff.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + datetime.timedelta(minutes=2)
    counts = outbox_send_due(now=later)
    assert counts["sent"] == 3  # two absences and the teacher's low-attendance alert
    assert sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Absence")) == sorted(
        s.guardian_email for s in students[1:])
    # Running again (cron, a Celery worker, the command) sends nothing twice.
    assert outbox_send_due(now=later + datetime.timedelta(hours=5))["sent"] == 0
    call_command("send_outbox")
    assert len(mail.outbox) == 3
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert all(m.attempts == 2 and m.sent_at for m in OutboxMessage.objects.all())


def test_a_round_stops_after_a_few_failures_in_a_row(settings: Any) -> None:
    settings.EMAIL_BACKEND = FAILING
    FailingSMTPBackend.attempts = 0
    for index in range(10):
        outbox_add(to=f"g{index}@family.example", kind="other", subject="S", body="B")
    counts = outbox_send_due()
    assert counts["failed"] == 3 and FailingSMTPBackend.attempts == 3
    assert OutboxMessage.objects.filter(attempts=0, status="pending").count() == 7


def test_a_message_is_claimed_by_one_sender_only() -> None:
    with transaction.atomic():
        message = outbox_add(to="guardian@family.example", kind="other", subject="Hello", body="Body")
    now = timezone.now()
    assert message_claim(message.pk, now) is True
    assert message_claim(message.pk, now) is False  # a second worker loses
    assert outbox_send_due(now=now)["sent"] == 0  # the claimed message is not sent by another round
    # A sender that died holding it: offered again after the claim timeout.
    assert outbox_send_due(now=now + datetime.timedelta(hours=1))["sent"] == 1
    assert len(mail.outbox) == 1


def test_after_max_attempts_a_message_is_failed_and_can_be_sent_again(settings: Any, admin_user: Any,
                                                                      client_for: ClientFor) -> None:
    settings.EMAIL_BACKEND = FAILING
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = outbox_add(to="guardian@family.example", kind="other", subject="Hello", body="Body")
    outbox_send_due()
    outbox_send_due(now=timezone.now() + datetime.timedelta(days=1))
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = client_for(admin_user)
    page = client.get("/office/outbox/?status=failed")
    assert page.status_code == 200 and b"guardian@family.example" in page.content
    assert b"Service not available" in page.content
    response = client.post(f"/office/outbox/{message.pk}/retry/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == "sent" and len(mail.outbox) == 1


def test_a_rolled_back_decision_sends_nothing(teacher: Any, course_with_session: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:
    session, _ = course_with_session
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.session_finalize(session=session, by=teacher)
        raise RuntimeError("something after the decision failed")
    assert not OutboxMessage.objects.exists() and mail.outbox == []
    assert AttendanceSession.objects.get(pk=session.pk).state == "open"


def test_the_same_message_key_is_queued_once() -> None:
    first = outbox_add(to="a@family.example", kind="other", subject="S", body="B", key="k1")
    again = outbox_add(to="a@family.example", kind="other", subject="S", body="B", key="k1")
    assert first is not None and again is None and OutboxMessage.objects.count() == 1


def test_a_subject_with_a_line_break_stays_one_header_line() -> None:
    message = outbox_add(to="a@family.example", kind="other", subject="Absence\r\nBcc: x@evil.example", body="B")
    assert "\n" not in message.subject and "\r" not in message.subject


@pytest.mark.parametrize("new_status", ["present", "late", "excused"])
def test_correcting_an_absence_after_finalising_sends_the_guardian_a_follow_up(
        teacher: Any, course_with_session: Any, django_capture_on_commit_callbacks: Any, new_status: str) -> None:
    session, students = course_with_session
    finalise(session, teacher, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    record = AttendanceRecord.objects.get(session=session, student=students[1])
    with django_capture_on_commit_callbacks(execute=True):
        services.record_correct(record=record, status=new_status, by=teacher, note="Arrived with a note")
    follow_ups = [m for m in mail.outbox if m.subject.startswith("Correction")]
    assert len(follow_ups) == 1 and follow_ups[0].to == [students[1].guardian_email]
    assert students[1].full_name in follow_ups[0].body
    assert OutboxMessage.objects.get(kind="follow_up").status == "sent"


def test_no_follow_up_when_the_guardian_was_not_told_or_the_change_is_not_from_absent(
        teacher: Any, course_with_session: Any, django_capture_on_commit_callbacks: Any) -> None:
    session, students = course_with_session
    # Still open: correcting before finalising tells nobody anything.
    record = AttendanceRecord.objects.get(session=session, student=students[1])
    with django_capture_on_commit_callbacks(execute=True):
        services.record_correct(record=record, status="absent", by=teacher)
        services.record_correct(record=record, status="present", by=teacher)
    assert not OutboxMessage.objects.filter(kind="follow_up").exists()
    finalise(session, teacher, django_capture_on_commit_callbacks)
    present = AttendanceRecord.objects.get(session=session, student=students[0])
    with django_capture_on_commit_callbacks(execute=True):
        services.record_correct(record=present, status="late", by=teacher)
    assert not OutboxMessage.objects.filter(kind="follow_up").exists()


def test_with_the_daily_summary_guardians_get_one_email_for_the_day(
        teacher: Any, course_with_session: Any, django_capture_on_commit_callbacks: Any) -> None:
    SchoolSettings.objects.create(guardian_daily_summary=True)
    session, students = course_with_session
    finalise(session, teacher, django_capture_on_commit_callbacks)
    assert not OutboxMessage.objects.filter(kind="absence").exists()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_guardian_summaries", "--date", "2026-11-20")
        call_command("send_guardian_summaries", "--date", "2026-11-20")  # cron ran twice
    summaries = [m for m in mail.outbox if m.subject.startswith("Attendance on")]
    assert sorted(m.to[0] for m in summaries) == sorted(s.guardian_email for s in students[1:])
    assert "absent from History 8B" in summaries[0].body
    # A correction afterwards follows the summary up.
    record = AttendanceRecord.objects.get(session=session, student=students[2])
    with django_capture_on_commit_callbacks(execute=True):
        services.record_correct(record=record, status="excused", by=teacher)
    assert [m.to for m in mail.outbox if m.subject.startswith("Correction")] == [[students[2].guardian_email]]


@pytest.mark.django_db(transaction=True)
def test_senders_running_at_once_send_each_message_exactly_once(settings: Any) -> None:
    import threading

    from django.db import connection

    from tests.school.mail_backends import SlowRecordingBackend

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("SQLite's shared in-memory test database locks whole tables: no concurrent writers")
    settings.EMAIL_BACKEND = "tests.school.mail_backends.SlowRecordingBackend"
    SlowRecordingBackend.accepted = []
    for index in range(30):
        with transaction.atomic():
            OutboxMessage.objects.create(to=f"g{index}@family.example", kind="other", subject="S", body="B",
                                         next_attempt_at=timezone.now())
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            outbox_send_due()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(SlowRecordingBackend.accepted) == sorted(f"g{index}@family.example" for index in range(30))
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
